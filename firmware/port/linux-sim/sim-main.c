/* SPDX-License-Identifier: MIT */
/* sim-main.c - espfleet-sim: options, the poll() loop, signals and the power-cut exit */

#define _GNU_SOURCE

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "ota/ota-auth.h"
#include "ota/ota-esp-image.h"
#include "ota/ota-util.h"
#include "sim-crypto.h"
#include "sim-device.h"
#include "sim-image.h"
#include "sim-net.h"
#include "sim-state.h"

#define SIM_VERSION "0.1.0"
#define MAX_DEVICES 1024

static const char usage_text[] =
    "Usage: espfleet-sim [OPTION...]\n"
    "\n"
    "Simulates ESP8266/ESP32 devices running the espfleet reference firmware: ArduinoOTA\n"
    "(espota) receiver, HTTP update server (/update, /info), mDNS responder and a TCP log\n"
    "stream, over a file-backed NOR flash with A/B OTA slots and ESP-IDF rollback.\n"
    "\n"
    "Device:\n"
    "  --name NAME            device name, mDNS host and instance name (default esp-sim)\n"
    "  --count N              run N devices in this process, named NAME-1 .. NAME-N, on\n"
    "                         consecutive ports (device i: port + i - 1)\n"
    "  --chip CHIP            esp32 (default), esp32s2, esp32s3, esp32c3, esp32c2, esp32c6,\n"
    "                         esp32h2, ... or esp8266; images for another chip are refused\n"
    "  --flavor FLAVOR        esp32 or esp8266: whose ArduinoOTA wire behaviour to copy\n"
    "                         (default: esp8266 for --chip esp8266, else esp32)\n"
    "  --board BOARD          TXT board= value (default from the chip, e.g. esp32, nodemcuv2)\n"
    "  --project NAME         project name of the factory image (default espfleet-sim)\n"
    "  --fw-version VERSION   version of the factory image (default 1.0.0)\n"
    "  --initial-image FILE   factory-flash FILE into ota_0 instead of a built image\n"
    "  --make-image FILE      write the image a first start would flash (for --chip,\n"
    "                         --project, --fw-version) to FILE and exit\n"
    "\n"
    "Network (every socket of every device binds to one address):\n"
    "  --bind ADDR            IPv4 address (default 127.0.0.1, loopback only)\n"
    "  --ota-port PORT        espota UDP port (default 3232, 8266 for --flavor esp8266)\n"
    "  --http-port PORT       HTTP update server (default 8080)\n"
    "  --log-port PORT        TCP log stream (default 2323)\n"
    "  mDNS runs only with --bind to a non-loopback address: each device answers on UDP\n"
    "  5353 of that address and joins 224.0.0.251 on the interface that owns it. Without\n"
    "  --bind, or with a 127.x address, there is no mDNS at all (nothing is multicast).\n"
    "\n"
    "Authentication:\n"
    "  --password-file FILE   read the OTA password from FILE (first line) once at start;\n"
    "                         only its hash is stored in the state directory, and the\n"
    "                         stored hash protects espota on later starts without it\n"
    "  --auth md5|sha256      espota scheme: md5 = legacy MD5 challenge (stored hash\n"
    "                         MD5hex(password)), sha256 = arduino-esp32 >= 3.3.1 PBKDF2\n"
    "                         (stored hash SHA256hex(password)); default md5\n"
    "  --no-password          forget a stored password hash\n"
    "  --http-user USER       HTTP update user (default admin); HTTP Basic auth needs the\n"
    "                         password itself, so with only a stored hash HTTP uploads\n"
    "                         are refused until --password-file is given again\n"
    "\n"
    "Flash and boot:\n"
    "  --state-dir DIR        where devices keep DIR/NAME/{flash.bin,mac,password,state}\n"
    "                         (default $XDG_STATE_HOME/espfleet-sim)\n"
    "  --flash-size SIZE      flash size, e.g. 4M (default), 2M, 8M, 16M\n"
    "  --flash-speed SPEED    realistic (default): 45 ms per 4 KiB erase, 150 ms per 64 KiB\n"
    "                         block, 0.8 ms per 256-byte page, charged to the device; fast:\n"
    "                         no waiting (unit tests)\n"
    "  --boot-time MS         silence while rebooting (default 1500, 200 with fast flash)\n"
    "  --tcp-window BYTES     TCP receive window of the upload connections (default as the\n"
    "                         chip's stock lwIP: 5744 ESP32, 2920 ESP8266; 65535 is what\n"
    "                         the reference firmware's CONFIG_LWIP_TCP_WND_DEFAULT sets)\n"
    "  --confirm-after SECS   a new app confirms itself this long after its first boot\n"
    "                         (default 2); a bad app restarts unconfirmed instead, and the\n"
    "                         bootloader rolls back (PENDING_VERIFY -> ABORTED)\n"
    "  A bad app is one whose esp_app_desc_t project name or version contains \"bad-app\".\n"
    "\n"
    "Faults (--fault NAME[=ARG], may be repeated; each fires once and logs\n"
    "\"W (...) fault: <what> fired\"):\n"
    "  drop-at=BYTES          close the upload connection without a word after BYTES image\n"
    "                         bytes (espota, http)\n"
    "  stall-at=BYTES:SECS    stop reading the upload for SECS seconds at BYTES (espota,\n"
    "                         http)\n"
    "  md5-mismatch           the MD5 check fails: \"MD5 Check Failed\" (ESP32), \"ERROR[7]:\n"
    "                         MD5 verification failed: ...\" (ESP8266, http)\n"
    "  auth-reject            the right password is refused: \"Authentication Failed\"\n"
    "                         (espota), 401 (http, when a password is set)\n"
    "  no-connect-back        espota: accept the invitation, never connect back\n"
    "  begin-error            Update.begin fails: \"Not Enough Space\" (ESP8266 sends ERR:,\n"
    "                         ESP32 stays silent as the real one does; http: Update error)\n"
    "  power-cut-at-op=K      the process dies (exit code 75, no cleanup) right before the\n"
    "                         K-th flash write or erase of this run (counted per device from\n"
    "                         start; the log prints \"flash operations so far: N\")\n"
    "  bad-app                the next new app fails its self-test and is rolled back\n"
    "  --fault-repeat         faults stay armed after they fired\n"
    "\n"
    "Log stream:\n"
    "  ESP-IDF formatted, coloured lines on TCP --log-port (a new client gets the history\n"
    "  since boot), and on stdout prefixed with [NAME] unless --quiet.\n"
    "  --heartbeat SECS       heartbeat line interval (default 5)\n"
    "  --log-rate N           add N synthetic sensor lines per second (load tests)\n"
    "  --quiet                no log lines on stdout\n"
    "\n"
    "GET /info returns JSON: name, mac, chip, board, project, version, fw_sha256 (64 hex:\n"
    "SHA-256 of the running image as it was uploaded, i.e. of the whole file), running_slot\n"
    "(ota_0/ota_1), running_state (valid/pending_verify/undefined), slot_size, free_space\n"
    "(bytes an upload may have: the inactive slot), uptime (s since boot), boot_count,\n"
    "last_update (\"ok\", \"rolled back\" or the error text), idf_version. mDNS TXT\n"
    "fw_sha256 is its first 16 hex digits.\n"
    "\n"
    "  --help                 this text\n"
    "  --version              the simulator's version\n"
    "\n"
    "Exit status: 0 after SIGINT/SIGTERM (mDNS goodbye, sockets closed, flash written\n"
    "back), 1 on errors, 2 on bad options, 75 when power-cut-at-op fired.\n";

enum {
	OPT_NAME = 256,
	OPT_COUNT,
	OPT_CHIP,
	OPT_FLAVOR,
	OPT_BOARD,
	OPT_PROJECT,
	OPT_FW_VERSION,
	OPT_INITIAL_IMAGE,
	OPT_MAKE_IMAGE,
	OPT_BIND,
	OPT_OTA_PORT,
	OPT_HTTP_PORT,
	OPT_LOG_PORT,
	OPT_PASSWORD_FILE,
	OPT_AUTH,
	OPT_NO_PASSWORD,
	OPT_HTTP_USER,
	OPT_STATE_DIR,
	OPT_FLASH_SIZE,
	OPT_FLASH_SPEED,
	OPT_BOOT_TIME,
	OPT_TCP_WINDOW,
	OPT_CONFIRM_AFTER,
	OPT_FAULT,
	OPT_FAULT_REPEAT,
	OPT_HEARTBEAT,
	OPT_LOG_RATE,
	OPT_QUIET,
	OPT_HELP,
	OPT_VERSION,
};

static const struct option long_options[] = {
    {"name", required_argument, NULL, OPT_NAME},
    {"count", required_argument, NULL, OPT_COUNT},
    {"chip", required_argument, NULL, OPT_CHIP},
    {"flavor", required_argument, NULL, OPT_FLAVOR},
    {"board", required_argument, NULL, OPT_BOARD},
    {"project", required_argument, NULL, OPT_PROJECT},
    {"fw-version", required_argument, NULL, OPT_FW_VERSION},
    {"initial-image", required_argument, NULL, OPT_INITIAL_IMAGE},
    {"make-image", required_argument, NULL, OPT_MAKE_IMAGE},
    {"bind", required_argument, NULL, OPT_BIND},
    {"ota-port", required_argument, NULL, OPT_OTA_PORT},
    {"http-port", required_argument, NULL, OPT_HTTP_PORT},
    {"log-port", required_argument, NULL, OPT_LOG_PORT},
    {"password-file", required_argument, NULL, OPT_PASSWORD_FILE},
    {"auth", required_argument, NULL, OPT_AUTH},
    {"no-password", no_argument, NULL, OPT_NO_PASSWORD},
    {"http-user", required_argument, NULL, OPT_HTTP_USER},
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
    {"flash-size", required_argument, NULL, OPT_FLASH_SIZE},
    {"flash-speed", required_argument, NULL, OPT_FLASH_SPEED},
    {"boot-time", required_argument, NULL, OPT_BOOT_TIME},
    {"tcp-window", required_argument, NULL, OPT_TCP_WINDOW},
    {"confirm-after", required_argument, NULL, OPT_CONFIRM_AFTER},
    {"fault", required_argument, NULL, OPT_FAULT},
    {"fault-repeat", no_argument, NULL, OPT_FAULT_REPEAT},
    {"heartbeat", required_argument, NULL, OPT_HEARTBEAT},
    {"log-rate", required_argument, NULL, OPT_LOG_RATE},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

struct options {
	const char *name;
	unsigned count;
	enum ota_chip chip;
	int flavor; /* -1: from the chip */
	const char *board;
	const char *project;
	const char *fw_version;
	const char *initial_image;
	const char *make_image;
	uint32_t bind_ip;
	bool bind_set;
	long ota_port; /* -1: from the flavour */
	long http_port;
	long log_port;
	const char *password_file;
	int auth; /* -1: stored or md5 */
	bool no_password;
	const char *http_user;
	const char *state_dir;
	uint32_t flash_size;
	enum sim_flash_timing timing;
	long boot_time_ms; /* -1: from the timing */
	long tcp_window;   /* 0: the chip's lwIP default */
	double confirm_after;
	struct sim_faults faults;
	double heartbeat;
	double log_rate;
	bool quiet;
};

static volatile sig_atomic_t stop_requested;
static jmp_buf power_jmp;
static struct sim_device *devices;
static unsigned n_devices;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
die_usage(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "espfleet-sim: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'espfleet-sim --help'.\n");
	exit(2);
}

static bool
parse_long(const char *s, long min, long max, long *out)
{
	char *end = NULL;
	long v;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static bool
parse_double(const char *s, double min, double max, double *out)
{
	char *end = NULL;
	double v;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static bool
parse_size(const char *s, uint32_t *out)
{
	char *end = NULL;
	unsigned long long v;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || end == s)
		return false;
	if (*end == 'K' || *end == 'k')
		v *= 1024u, end++;
	else if (*end == 'M' || *end == 'm')
		v *= 1024u * 1024u, end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0' || v < 1024u * 1024u || v > 128u * 1024u * 1024u || (v & (v - 1)) != 0)
		return false;
	*out = (uint32_t)v;
	return true;
}

static void
parse_fault(struct sim_faults *f, const char *spec)
{
	const char *eq = strchr(spec, '=');
	size_t name_len = eq != NULL ? (size_t)(eq - spec) : strlen(spec);
	const char *arg = eq != NULL ? eq + 1 : NULL;
	long v;

#define IS(n) (name_len == strlen(n) && strncmp(spec, n, name_len) == 0)
	if (IS("drop-at") && arg != NULL && parse_long(arg, 0, INT32_MAX, &v)) {
		f->drop = true;
		f->drop_at = (uint32_t)v;
	} else if (IS("stall-at") && arg != NULL) {
		char bytes[32];
		const char *colon = strchr(arg, ':');
		double secs;
		if (colon == NULL || (size_t)(colon - arg) >= sizeof(bytes))
			die_usage("stall-at needs BYTES:SECONDS, not '%s'", arg);
		memcpy(bytes, arg, (size_t)(colon - arg));
		bytes[colon - arg] = '\0';
		if (!parse_long(bytes, 0, INT32_MAX, &v) ||
		    !parse_double(colon + 1, 0, 3600, &secs))
			die_usage("stall-at needs BYTES:SECONDS, not '%s'", arg);
		f->stall = true;
		f->stall_at = (uint32_t)v;
		f->stall_ms = (uint32_t)(secs * 1000.0 + 0.5);
	} else if (IS("md5-mismatch") && arg == NULL) {
		f->md5_mismatch = true;
	} else if (IS("auth-reject") && arg == NULL) {
		f->auth_reject = true;
	} else if (IS("no-connect-back") && arg == NULL) {
		f->no_connect_back = true;
	} else if (IS("begin-error") && arg == NULL) {
		f->begin_error = true;
	} else if (IS("bad-app") && arg == NULL) {
		f->bad_app = true;
	} else if (IS("power-cut-at-op") && arg != NULL && parse_long(arg, 1, LONG_MAX, &v)) {
		f->power_cut = true;
		f->power_cut_op = (uint64_t)v;
	} else {
		die_usage("unknown fault or bad argument: '%s' (see --help)", spec);
	}
#undef IS
}

static long
port_arg(const char *s)
{
	long v;
	if (!parse_long(s, 1, 65535, &v))
		die_usage("not a port: '%s'", s);
	return v;
}

static void
parse_options(int argc, char **argv, struct options *o)
{
	int c;
	long v;

	memset(o, 0, sizeof(*o));
	o->name = "esp-sim";
	o->count = 1;
	o->chip = OTA_CHIP_ESP32;
	o->flavor = -1;
	o->project = "espfleet-sim";
	o->fw_version = "1.0.0";
	o->bind_ip = 0x7F000001u;
	o->ota_port = -1;
	o->http_port = 8080;
	o->log_port = 2323;
	o->auth = -1;
	o->flash_size = 4u * 1024u * 1024u;
	o->timing = SIM_FLASH_REALISTIC;
	o->boot_time_ms = -1;
	o->confirm_after = 2.0;
	o->heartbeat = 5.0;

	while ((c = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_NAME:
			o->name = optarg;
			break;
		case OPT_COUNT:
			if (!parse_long(optarg, 1, MAX_DEVICES, &v))
				die_usage("--count must be 1 .. 1024, not '%s'", optarg);
			o->count = (unsigned)v;
			break;
		case OPT_CHIP:
			o->chip = ota_chip_from_string(optarg);
			if (o->chip == OTA_CHIP_UNKNOWN)
				die_usage("unknown chip '%s'", optarg);
			break;
		case OPT_FLAVOR:
			if (strcmp(optarg, "esp32") == 0)
				o->flavor = OTA_FLAVOR_ESP32;
			else if (strcmp(optarg, "esp8266") == 0)
				o->flavor = OTA_FLAVOR_ESP8266;
			else
				die_usage("--flavor is esp32 or esp8266, not '%s'", optarg);
			break;
		case OPT_BOARD:
			o->board = optarg;
			break;
		case OPT_PROJECT:
			o->project = optarg;
			break;
		case OPT_FW_VERSION:
			o->fw_version = optarg;
			break;
		case OPT_INITIAL_IMAGE:
			o->initial_image = optarg;
			break;
		case OPT_MAKE_IMAGE:
			o->make_image = optarg;
			break;
		case OPT_BIND:
			if (!sim_ip_parse(optarg, &o->bind_ip) || o->bind_ip == 0 ||
			    o->bind_ip == 0xFFFFFFFFu || (o->bind_ip >> 28) == 0xE)
				die_usage("--bind needs one unicast IPv4 address, not '%s'",
					  optarg);
			o->bind_set = true;
			break;
		case OPT_OTA_PORT:
			o->ota_port = port_arg(optarg);
			break;
		case OPT_HTTP_PORT:
			o->http_port = port_arg(optarg);
			break;
		case OPT_LOG_PORT:
			o->log_port = port_arg(optarg);
			break;
		case OPT_PASSWORD_FILE:
			o->password_file = optarg;
			break;
		case OPT_AUTH:
			if (strcmp(optarg, "md5") == 0)
				o->auth = OTA_AUTH_MD5;
			else if (strcmp(optarg, "sha256") == 0)
				o->auth = OTA_AUTH_PBKDF2;
			else
				die_usage("--auth is md5 or sha256, not '%s'", optarg);
			break;
		case OPT_NO_PASSWORD:
			o->no_password = true;
			break;
		case OPT_HTTP_USER:
			o->http_user = optarg;
			break;
		case OPT_STATE_DIR:
			o->state_dir = optarg;
			break;
		case OPT_FLASH_SIZE:
			if (!parse_size(optarg, &o->flash_size))
				die_usage(
				    "--flash-size must be a power of two from 1M to 128M, not "
				    "'%s'",
				    optarg);
			break;
		case OPT_FLASH_SPEED:
			if (strcmp(optarg, "realistic") == 0)
				o->timing = SIM_FLASH_REALISTIC;
			else if (strcmp(optarg, "fast") == 0)
				o->timing = SIM_FLASH_FAST;
			else
				die_usage("--flash-speed is realistic or fast, not '%s'", optarg);
			break;
		case OPT_TCP_WINDOW:
			if (!parse_long(optarg, 1024, 65535, &o->tcp_window))
				die_usage("--tcp-window takes 1024 to 65535 bytes, not '%s'", optarg);
			break;
		case OPT_BOOT_TIME:
			if (!parse_long(optarg, 0, 600000, &o->boot_time_ms))
				die_usage("--boot-time takes milliseconds, not '%s'", optarg);
			break;
		case OPT_CONFIRM_AFTER:
			if (!parse_double(optarg, 0, 86400, &o->confirm_after))
				die_usage("--confirm-after takes seconds, not '%s'", optarg);
			break;
		case OPT_FAULT:
			parse_fault(&o->faults, optarg);
			break;
		case OPT_FAULT_REPEAT:
			o->faults.repeat = true;
			break;
		case OPT_HEARTBEAT:
			if (!parse_double(optarg, 0.01, 86400, &o->heartbeat))
				die_usage("--heartbeat takes seconds, not '%s'", optarg);
			break;
		case OPT_LOG_RATE:
			if (!parse_double(optarg, 0, 100000, &o->log_rate))
				die_usage("--log-rate takes lines per second, not '%s'", optarg);
			break;
		case OPT_QUIET:
			o->quiet = true;
			break;
		case OPT_HELP:
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		case OPT_VERSION:
			printf("espfleet-sim %s\n", SIM_VERSION);
			exit(0);
		default:
			fprintf(stderr, "Try 'espfleet-sim --help'.\n");
			exit(2);
		}
	}
	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);
}

/* a host label: letters, digits and '-' */
static bool
name_ok(const char *name, unsigned count)
{
	size_t n = strlen(name);
	if (n == 0 || n + (count > 1 ? 5 : 0) > 63 || name[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return false;
	}
	return true;
}

static char *
default_state_dir(void)
{
	const char *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	char *out = NULL;
	if (xdg != NULL && xdg[0] == '/') {
		if (asprintf(&out, "%s/espfleet-sim", xdg) < 0)
			out = NULL;
	} else if (home != NULL && home[0] != '\0') {
		if (asprintf(&out, "%s/.local/state/espfleet-sim", home) < 0)
			out = NULL;
	}
	return out;
}

/* the first line of @path, without its line end; NULL when unreadable or empty */
static char *
read_password(const char *path)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	if (f == NULL)
		return NULL;
	n = getline(&line, &cap, f);
	fclose(f);
	if (n <= 0) {
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (n == 0) {
		free(line);
		return NULL;
	}
	return line;
}

static int
make_image(const struct options *o)
{
	struct sim_image_opts io;
	uint8_t *img = NULL;
	size_t len = 0;
	int rc;

	memset(&io, 0, sizeof(io));
	io.chip = o->chip;
	io.project = o->project;
	io.version = o->fw_version;
	io.flash_size = o->flash_size;
	if (sim_image_build(&io, &img, &len) != 0) {
		fprintf(stderr, "espfleet-sim: cannot build an image for %s\n",
			ota_chip_id_string(o->chip));
		return 1;
	}
	rc = sim_write_file_atomic(o->make_image, img, len, 0644);
	free(img);
	if (rc != 0) {
		fprintf(stderr, "espfleet-sim: cannot write %s: %s\n", o->make_image,
			strerror(errno));
		return 1;
	}
	printf("%s: %zu bytes, %s app %s %s\n", o->make_image, len, ota_chip_id_string(o->chip),
	       o->project, o->fw_version);
	return 0;
}

/*
 * The password: from --password-file (hashed and stored, the plain text kept only for
 * HTTP auth in memory) or the hash stored by an earlier start.
 */
static int
setup_password(const struct options *o, struct sim_config *cfg, const char *plain)
{
	char scheme[16];
	char hash[OTA_AUTH_SHA256_HEX_LEN + 1];
	int rc;

	cfg->auth_scheme = o->auth >= 0 ? (enum ota_auth_scheme)o->auth : OTA_AUTH_MD5;
	cfg->password_hash[0] = '\0';
	cfg->http_password[0] = '\0';
	snprintf(cfg->http_user, sizeof(cfg->http_user), "%s",
		 o->http_user != NULL ? o->http_user : "admin");
	if (sim_mkdirs(cfg->dir) != 0) {
		fprintf(stderr, "espfleet-sim: cannot create %s: %s\n", cfg->dir, strerror(errno));
		return -1;
	}
	if (o->no_password && sim_password_remove(cfg->dir) != 0) {
		fprintf(stderr, "espfleet-sim: cannot remove the password of %s: %s\n", cfg->dir,
			strerror(errno));
		return -1;
	}
	if (plain != NULL) {
		struct sim_crypto *c = sim_crypto_new();
		if (c == NULL)
			return -1;
		rc = ota_auth_password_hash(sim_crypto_ops(c), cfg->auth_scheme, plain,
					    strlen(plain), cfg->password_hash);
		sim_crypto_free(c);
		if (rc != 0) {
			fprintf(stderr, "espfleet-sim: cannot hash the password\n");
			return -1;
		}
		if (sim_password_store(cfg->dir,
				       cfg->auth_scheme == OTA_AUTH_MD5 ? "md5" : "sha256",
				       cfg->password_hash) != 0) {
			fprintf(stderr, "espfleet-sim: cannot store the password hash in %s: %s\n",
				cfg->dir, strerror(errno));
			return -1;
		}
		snprintf(cfg->http_password, sizeof(cfg->http_password), "%s", plain);
		return 0;
	}
	rc = sim_password_load(cfg->dir, scheme, sizeof(scheme), hash, sizeof(hash));
	if (rc < 0) {
		fprintf(stderr, "espfleet-sim: %s/password is damaged; use --no-password\n",
			cfg->dir);
		return -1;
	}
	if (rc == 0)
		return 0;
	if (o->auth >= 0 && (o->auth == OTA_AUTH_MD5) != (strcmp(scheme, "md5") == 0)) {
		fprintf(stderr,
			"espfleet-sim: %s keeps a %s password hash; --auth %s needs "
			"--password-file\n",
			cfg->name, scheme, o->auth == OTA_AUTH_MD5 ? "md5" : "sha256");
		return -1;
	}
	cfg->auth_scheme = strcmp(scheme, "md5") == 0 ? OTA_AUTH_MD5 : OTA_AUTH_PBKDF2;
	snprintf(cfg->password_hash, sizeof(cfg->password_hash), "%s", hash);
	/* HTTP Basic compares the password itself, which is not stored: refuse HTTP uploads
	 * (a random password) rather than leave them open */
	{
		uint8_t r[16];
		if (getrandom(r, sizeof(r), 0) == (ssize_t)sizeof(r))
			ota_hex(r, sizeof(r), cfg->http_password);
		else
			snprintf(cfg->http_password, sizeof(cfg->http_password), "%s", hash);
	}
	printf("[%s] note: espota uses the stored password hash; HTTP uploads are refused until "
	       "--password-file is given again\n",
	       cfg->name);
	return 0;
}

static void
power_cut_exit(void)
{
	for (unsigned i = 0; i < n_devices; i++) {
		if (sim_device_power_cut(&devices[i]))
			sim_device_report_power_cut(&devices[i]);
	}
	fflush(stdout);
	/* like pulling the plug: no goodbye, no msync, no cleanup (the page cache keeps
	 * what reached the mapped flash file) */
	_exit(SIM_EXIT_POWER_CUT);
}

static void
run_loop(void)
{
	size_t cap = (size_t)n_devices * SIM_DEVICE_MAX_FDS;
	struct pollfd *pfds = calloc(cap, sizeof(*pfds));
	struct sim_pollref *refs = calloc(cap, sizeof(*refs));
	sigset_t empty;

	if (pfds == NULL || refs == NULL) {
		fprintf(stderr, "espfleet-sim: out of memory\n");
		exit(1);
	}
	sigemptyset(&empty);
	while (!stop_requested) {
		uint64_t now = sim_now_us();
		uint64_t deadline = 0;
		size_t n = 0;
		struct timespec ts;
		int rc;

		for (unsigned i = 0; i < n_devices; i++)
			sim_device_collect(&devices[i], pfds, refs, &n, now, &deadline);
		if (deadline != 0) {
			uint64_t wait = deadline > now ? deadline - now : 0;
			ts.tv_sec = (time_t)(wait / 1000000u);
			ts.tv_nsec = (long)(wait % 1000000u) * 1000;
		}
		/* SIGINT/SIGTERM are blocked except while waiting, so none is missed */
		rc = ppoll(pfds, n, deadline != 0 ? &ts : NULL, &empty);
		if (rc < 0 && errno != EINTR) {
			perror("espfleet-sim: ppoll");
			break;
		}
		for (size_t i = 0; rc > 0 && i < n; i++) {
			if (pfds[i].revents != 0)
				sim_device_dispatch(refs[i].dev, &refs[i], pfds[i].revents);
		}
		for (unsigned i = 0; i < n_devices; i++)
			sim_device_run(&devices[i]);
	}
	free(pfds);
	free(refs);
}

/* opens, starts and runs the devices; the power-cut fault jumps back in here */
static int
run_devices(const struct options *o,
	    const char *state_dir,
	    const char *plain,
	    enum ota_flavor flavor)
{
	char err[512];

	devices = calloc(o->count, sizeof(*devices));
	if (devices == NULL) {
		fprintf(stderr, "espfleet-sim: out of memory\n");
		return 1;
	}
	/* a power cut anywhere (first boot included) lands here and ends the process */
	if (setjmp(power_jmp) != 0)
		power_cut_exit();

	for (unsigned i = 0; i < o->count; i++) {
		struct sim_config cfg;
		memset(&cfg, 0, sizeof(cfg));
		if (o->count > 1)
			snprintf(cfg.name, sizeof(cfg.name), "%s-%u", o->name, i + 1);
		else
			snprintf(cfg.name, sizeof(cfg.name), "%s", o->name);
		cfg.chip = o->chip;
		cfg.flavor = flavor;
		snprintf(cfg.board, sizeof(cfg.board), "%s",
			 o->board != NULL ? o->board : sim_chip_board(o->chip));
		cfg.bind_ip = o->bind_ip;
		/* SAFETY: multicast only on an address the user named, never on loopback */
		cfg.mdns = o->bind_set && (o->bind_ip >> 24) != 127;
		cfg.ota_port = (uint16_t)(o->ota_port + i);
		cfg.http_port = (uint16_t)(o->http_port + i);
		cfg.log_port = (uint16_t)(o->log_port + i);
		snprintf(cfg.dir, sizeof(cfg.dir), "%s/%s", state_dir, cfg.name);
		cfg.flash_size = o->flash_size;
		cfg.timing = o->timing;
		cfg.boot_time_ms = o->boot_time_ms >= 0
				       ? (uint32_t)o->boot_time_ms
				       : (o->timing == SIM_FLASH_FAST ? 200u : 1500u);
		cfg.confirm_after_ms = (uint32_t)(o->confirm_after * 1000.0 + 0.5);
		cfg.tcp_window = (uint32_t)o->tcp_window;
		cfg.project = o->project;
		cfg.fw_version = o->fw_version;
		cfg.initial_image = o->initial_image;
		cfg.faults = o->faults;
		cfg.log_rate = o->log_rate;
		cfg.heartbeat_ms = (uint32_t)(o->heartbeat * 1000.0 + 0.5);
		cfg.console = !o->quiet;
		cfg.power_jmp = &power_jmp;
		if (setup_password(o, &cfg, plain) != 0)
			return 1;
		if (sim_device_open(&devices[i], &cfg, err, sizeof(err)) != 0) {
			fprintf(stderr, "espfleet-sim: %s: %s\n", cfg.name, err);
			return 1;
		}
		n_devices = i + 1;
	}
	for (unsigned i = 0; i < n_devices; i++) {
		struct sim_device *d = &devices[i];
		if (sim_device_start(d, err, sizeof(err)) != 0) {
			fprintf(stderr, "espfleet-sim: %s: %s\n", d->cfg.name, err);
			for (unsigned k = 0; k < n_devices; k++)
				sim_device_close(&devices[k]);
			return 1;
		}
		printf("espfleet-sim: %s ready: espota udp %s:%u, http://%s:%u/update, log tcp "
		       "%s:%u, state %s\n",
		       d->cfg.name, d->bind_text, (unsigned)d->cfg.ota_port, d->bind_text,
		       (unsigned)d->cfg.http_port, d->bind_text, (unsigned)d->cfg.log_port,
		       d->cfg.dir);
	}

	run_loop();

	for (unsigned i = 0; i < n_devices; i++)
		sim_device_close(&devices[i]);
	free(devices);
	printf("espfleet-sim: stopped\n");
	return 0;
}

int
main(int argc, char **argv)
{
	struct options o;
	char *state_dir_alloc = NULL;
	const char *state_dir;
	char *plain = NULL;
	enum ota_flavor flavor;
	struct sigaction sa;
	sigset_t block;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	parse_options(argc, argv, &o);
	if (o.make_image != NULL)
		return make_image(&o);
	if (!name_ok(o.name, o.count))
		die_usage("--name must be a host label (letters, digits, '-', at most 63), not "
			  "'%s'",
			  o.name);
	flavor = o.flavor >= 0
		     ? (enum ota_flavor)o.flavor
		     : (o.chip == OTA_CHIP_ESP8266 ? OTA_FLAVOR_ESP8266 : OTA_FLAVOR_ESP32);
	if (o.ota_port < 0)
		o.ota_port = flavor == OTA_FLAVOR_ESP8266 ? 8266 : 3232;
	if (o.ota_port + o.count - 1 > 65535 || o.http_port + o.count - 1 > 65535 ||
	    o.log_port + o.count - 1 > 65535)
		die_usage("%s", "--count too large for the ports");
	state_dir = o.state_dir;
	if (state_dir == NULL) {
		state_dir_alloc = default_state_dir();
		if (state_dir_alloc == NULL)
			die_usage("%s", "no --state-dir and no HOME");
		state_dir = state_dir_alloc;
	}
	if (o.password_file != NULL) {
		plain = read_password(o.password_file);
		if (plain == NULL) {
			fprintf(stderr, "espfleet-sim: cannot read a password from %s\n",
				o.password_file);
			return 1;
		}
		if (strlen(plain) > OTA_HTTP_CRED_MAX) {
			fprintf(stderr, "espfleet-sim: the password is longer than %d bytes\n",
				OTA_HTTP_CRED_MAX);
			return 1;
		}
	}

	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, NULL);

	if (!o.bind_set)
		printf("espfleet-sim: mDNS is off: it runs only with --bind to a non-loopback "
		       "address\n");
	else if ((o.bind_ip >> 24) == 127)
		printf("espfleet-sim: mDNS is off on loopback addresses\n");

	rc = run_devices(&o, state_dir, plain, flavor);
	if (plain != NULL) {
		explicit_bzero(plain, strlen(plain));
		free(plain);
	}
	free(state_dir_alloc);
	return rc;
}
