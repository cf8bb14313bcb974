/* SPDX-License-Identifier: MIT */
/*
 * sim-net.h - the POSIX socket plumbing of the simulator: non-blocking sockets, output
 * buffers, the mDNS socket pair and the monotonic clock
 *
 * IPv4 addresses are host byte order, as in the core.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* a growable byte queue */
struct sim_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

int sim_buf_append(struct sim_buf *b, const void *data, size_t len);
void sim_buf_consume(struct sim_buf *b, size_t n);
void sim_buf_clear(struct sim_buf *b);
void sim_buf_free(struct sim_buf *b);

/*
 * sim_buf_flush:
 *
 * Sends as much of @b as the socket takes now.
 *
 * Returns: 0 (everything or part of it went out), -1 when the connection failed.
 */
int sim_buf_flush(int fd, struct sim_buf *b);

/* microseconds of CLOCK_MONOTONIC */
uint64_t sim_now_us(void);

/* "a.b.c.d" <-> host order; false when @text is not a dotted quad */
bool sim_ip_parse(const char *text, uint32_t *ip);
void sim_ip_format(uint32_t ip, char out[16]);

/* each returns the fd or -1 with a message in @err */
int sim_udp_bind(uint32_t ip, uint16_t port, char *err, size_t err_size);
int sim_tcp_listen(uint32_t ip, uint16_t port, char *err, size_t err_size);

/*
 * sim_tcp_connect:
 * @src_ip: the local address (the device's), port chosen by the kernel
 * @rcvbuf: SO_RCVBUF before connecting (an lwIP-sized window), 0 to leave it
 *
 * Starts a non-blocking connect. Returns the fd (the result comes as POLLOUT) or -1.
 */
int sim_tcp_connect(uint32_t src_ip, uint32_t ip, uint16_t port, int rcvbuf);

/* the interface that owns @ip: index, name and netmask; -1 when none does */
int sim_iface_for(uint32_t ip, unsigned *ifindex, uint32_t *netmask, char *name, size_t name_size);

/*
 * sim_mdns_open:
 *
 * The two sockets of one mDNS responder on the interface owning @ip: @uni_fd bound to
 * ip:5353 (unicast queries, and every send: IP_MULTICAST_IF = @ip, TTL 255, loop on) and
 * @mcast_fd bound to 224.0.0.251:5353, joined on that interface only (IP_MULTICAST_ALL
 * off). Both with SO_REUSEADDR and SO_REUSEPORT, so several devices share the port.
 */
int sim_mdns_open(
    uint32_t ip, unsigned ifindex, int *uni_fd, int *mcast_fd, char *err, size_t err_size);
