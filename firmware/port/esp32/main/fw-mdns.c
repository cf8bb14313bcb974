/* SPDX-License-Identifier: MIT */
/* fw-mdns.c - _arduino._tcp with the core's TXT keys, through the espressif/mdns component */

#include "fw-mdns.h"

#include "fw-glue.h"
#include "mdns.h"

#define SERVICE "_arduino"
#define PROTO "_tcp"

static void
to_items(const struct fw_txt *t, mdns_txt_item_t *items)
{
	for (size_t i = 0; i < t->count; i++) {
		items[i].key = t->key[i];
		items[i].value = t->value[i];
	}
}

esp_err_t
fw_mdns_start(const struct ota_mdns_config *cfg)
{
	static struct fw_txt txt; /* the component copies the items; static keeps the stack small */
	mdns_txt_item_t items[FW_TXT_MAX];
	const char *instance =
	    cfg->instance != NULL && cfg->instance[0] != '\0' ? cfg->instance : cfg->hostname;
	esp_err_t err = mdns_init();

	if (err == ESP_OK)
		err = mdns_hostname_set(cfg->hostname);
	if (err == ESP_OK)
		err = mdns_instance_name_set(instance);
	if (err != ESP_OK)
		return err;
	fw_txt_build(cfg, &txt);
	to_items(&txt, items);
	return mdns_service_add(instance, SERVICE, PROTO, cfg->ota_port, items, txt.count);
}

void
fw_mdns_stop(void)
{
	/* mdns_free() removes every service, which sends their goodbye records */
	mdns_free();
}
