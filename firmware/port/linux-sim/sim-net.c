/* SPDX-License-Identifier: MIT */
/* sim-net.c - non-blocking sockets, output queues, the mDNS socket pair, the clock */

#define _GNU_SOURCE

#include "sim-net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ota/ota-mdns.h"

int
sim_buf_append(struct sim_buf *b, const void *data, size_t len)
{
	if (b->len + len > b->cap) {
		size_t cap = b->cap != 0 ? b->cap : 1024;
		uint8_t *p;
		while (cap < b->len + len)
			cap *= 2;
		p = realloc(b->data, cap);
		if (p == NULL)
			return -1;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

void
sim_buf_consume(struct sim_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

void
sim_buf_clear(struct sim_buf *b)
{
	b->len = 0;
}

void
sim_buf_free(struct sim_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

int
sim_buf_flush(int fd, struct sim_buf *b)
{
	size_t done = 0;
	while (done < b->len) {
		ssize_t n = send(fd, b->data + done, b->len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) /* EWOULDBLOCK on Linux too */
				break;
			sim_buf_consume(b, done);
			return -1;
		}
		done += (size_t)n;
	}
	sim_buf_consume(b, done);
	return 0;
}

uint64_t
sim_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

bool
sim_ip_parse(const char *text, uint32_t *ip)
{
	struct in_addr a;
	if (text == NULL || inet_pton(AF_INET, text, &a) != 1)
		return false;
	*ip = ntohl(a.s_addr);
	return true;
}

void
sim_ip_format(uint32_t ip, char out[16])
{
	snprintf(out, 16, "%u.%u.%u.%u", (unsigned)(ip >> 24), (unsigned)(ip >> 16 & 0xFF),
		 (unsigned)(ip >> 8 & 0xFF), (unsigned)(ip & 0xFF));
}

static struct sockaddr_in
sockaddr_of(uint32_t ip, uint16_t port)
{
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(ip);
	sa.sin_port = htons(port);
	return sa;
}

static int
fail(int fd, char *err, size_t err_size, const char *what, uint32_t ip, uint16_t port)
{
	char addr[16];
	int saved = errno;
	sim_ip_format(ip, addr);
	snprintf(err, err_size, "%s %s:%u: %s", what, addr, (unsigned)port, strerror(saved));
	if (fd >= 0)
		close(fd);
	errno = saved;
	return -1;
}

static void
set_int(int fd, int level, int name, int value)
{
	(void)setsockopt(fd, level, name, &value, sizeof(value));
}

int
sim_udp_bind(uint32_t ip, uint16_t port, char *err, size_t err_size)
{
	struct sockaddr_in sa = sockaddr_of(ip, port);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(fd, err, err_size, "udp socket for", ip, port);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return fail(fd, err, err_size, "cannot bind udp", ip, port);
	return fd;
}

int
sim_tcp_listen(uint32_t ip, uint16_t port, char *err, size_t err_size)
{
	struct sockaddr_in sa = sockaddr_of(ip, port);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(fd, err, err_size, "tcp socket for", ip, port);
	/* a rebooted device must get its port back while old connections sit in TIME_WAIT */
	set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return fail(fd, err, err_size, "cannot bind tcp", ip, port);
	if (listen(fd, 8) != 0)
		return fail(fd, err, err_size, "cannot listen on", ip, port);
	return fd;
}

int
sim_tcp_connect(uint32_t src_ip, uint32_t ip, uint16_t port, int rcvbuf)
{
	struct sockaddr_in src = sockaddr_of(src_ip, 0);
	struct sockaddr_in dst = sockaddr_of(ip, port);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (rcvbuf > 0)
		set_int(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf);
	/* the connection comes from the device's own address, as it would on a LAN */
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) != 0 ||
	    (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) != 0 && errno != EINPROGRESS)) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int
sim_iface_for(uint32_t ip, unsigned *ifindex, uint32_t *netmask, char *name, size_t name_size)
{
	struct ifaddrs *list = NULL;
	int rc = -1;

	if (getifaddrs(&list) != 0)
		return -1;
	for (struct ifaddrs *i = list; i != NULL; i = i->ifa_next) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)i->ifa_addr;
		const struct sockaddr_in *m =
		    (const struct sockaddr_in *)(const void *)i->ifa_netmask;
		if (a == NULL || a->sin_family != AF_INET || ntohl(a->sin_addr.s_addr) != ip)
			continue;
		*ifindex = if_nametoindex(i->ifa_name);
		*netmask = m != NULL ? ntohl(m->sin_addr.s_addr) : 0;
		snprintf(name, name_size, "%s", i->ifa_name);
		rc = *ifindex != 0 ? 0 : -1;
		break;
	}
	freeifaddrs(list);
	if (rc != 0)
		errno = EADDRNOTAVAIL;
	return rc;
}

int
sim_mdns_open(uint32_t ip, unsigned ifindex, int *uni_fd, int *mcast_fd, char *err, size_t err_size)
{
	struct sockaddr_in uni = sockaddr_of(ip, OTA_MDNS_PORT);
	struct sockaddr_in grp = sockaddr_of(OTA_MDNS_GROUP, OTA_MDNS_PORT);
	struct ip_mreqn mreq;
	struct in_addr ifaddr;
	int u;
	int m;

	*uni_fd = -1;
	*mcast_fd = -1;
	u = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (u < 0)
		return fail(u, err, err_size, "mdns socket for", ip, OTA_MDNS_PORT);
	set_int(u, SOL_SOCKET, SO_REUSEADDR, 1);
	set_int(u, SOL_SOCKET, SO_REUSEPORT, 1);
	if (bind(u, (struct sockaddr *)&uni, sizeof(uni)) != 0)
		return fail(u, err, err_size, "cannot bind mdns", ip, OTA_MDNS_PORT);
	/* sends leave through the interface of @ip, with @ip as source, TTL 255 (RFC 6762 §11) */
	ifaddr.s_addr = htonl(ip);
	if (setsockopt(u, IPPROTO_IP, IP_MULTICAST_IF, &ifaddr, sizeof(ifaddr)) != 0)
		return fail(u, err, err_size, "IP_MULTICAST_IF", ip, OTA_MDNS_PORT);
	set_int(u, IPPROTO_IP, IP_MULTICAST_TTL, 255);
	set_int(u, IPPROTO_IP, IP_TTL, 255);
	/* other responders and browsers in the same namespace must hear us */
	set_int(u, IPPROTO_IP, IP_MULTICAST_LOOP, 1);

	m = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m < 0) {
		close(u);
		return fail(m, err, err_size, "mdns socket for", OTA_MDNS_GROUP, OTA_MDNS_PORT);
	}
	set_int(m, SOL_SOCKET, SO_REUSEADDR, 1);
	set_int(m, SOL_SOCKET, SO_REUSEPORT, 1);
	set_int(m, IPPROTO_IP, IP_MULTICAST_ALL, 0);
	if (bind(m, (struct sockaddr *)&grp, sizeof(grp)) != 0) {
		close(u);
		return fail(m, err, err_size, "cannot bind mdns", OTA_MDNS_GROUP, OTA_MDNS_PORT);
	}
	memset(&mreq, 0, sizeof(mreq));
	mreq.imr_multiaddr.s_addr = htonl(OTA_MDNS_GROUP);
	mreq.imr_address.s_addr = htonl(ip);
	mreq.imr_ifindex = (int)ifindex;
	if (setsockopt(m, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq)) != 0) {
		close(u);
		return fail(m, err, err_size, "cannot join", OTA_MDNS_GROUP, OTA_MDNS_PORT);
	}
	*uni_fd = u;
	*mcast_fd = m;
	return 0;
}
