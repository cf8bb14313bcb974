/* SPDX-License-Identifier: MIT */
/* fw-wifi.c - station bring-up on esp_netif and esp_wifi, with an event group for the address */

#include "fw-wifi.h"

#include <string.h>

#include "esp_event.h"
#include "esp_log.h"
#include "esp_netif.h"
#include "esp_wifi.h"
#include "freertos/FreeRTOS.h"
#include "freertos/event_groups.h"
#include "lwip/def.h"

#define GOT_IP_BIT BIT0

static const char *TAG = "wifi_sta";
static EventGroupHandle_t s_events;
static portMUX_TYPE s_lock = portMUX_INITIALIZER_UNLOCKED;
static uint32_t s_ip;
static uint32_t s_mask;

static void
on_event(void *arg, esp_event_base_t base, int32_t id, void *data)
{
	(void)arg;
	if (base == WIFI_EVENT && id == WIFI_EVENT_STA_START) {
		(void)esp_wifi_connect();
	} else if (base == WIFI_EVENT && id == WIFI_EVENT_STA_DISCONNECTED) {
		const wifi_event_sta_disconnected_t *e = data;
		xEventGroupClearBits(s_events, GOT_IP_BIT);
		ESP_LOGW(TAG, "disconnected (reason %u), reconnecting", (unsigned)e->reason);
		(void)esp_wifi_connect();
	} else if (base == IP_EVENT && id == IP_EVENT_STA_GOT_IP) {
		const ip_event_got_ip_t *e = data;
		portENTER_CRITICAL(&s_lock);
		s_ip = lwip_ntohl(e->ip_info.ip.addr);
		s_mask = lwip_ntohl(e->ip_info.netmask.addr);
		portEXIT_CRITICAL(&s_lock);
		xEventGroupSetBits(s_events, GOT_IP_BIT);
	}
}

esp_err_t
fw_wifi_start(const char *ssid, const char *password, const char *hostname)
{
	wifi_init_config_t init = WIFI_INIT_CONFIG_DEFAULT();
	wifi_config_t wc;
	esp_netif_t *sta;
	esp_err_t err;

	s_events = xEventGroupCreate();
	if (s_events == NULL)
		return ESP_ERR_NO_MEM;
	err = esp_netif_init();
	if (err == ESP_OK)
		err = esp_event_loop_create_default();
	if (err != ESP_OK)
		return err;
	sta = esp_netif_create_default_wifi_sta();
	if (sta == NULL)
		return ESP_FAIL;
	(void)esp_netif_set_hostname(sta, hostname);
	err = esp_wifi_init(&init);
	if (err == ESP_OK)
		err = esp_event_handler_instance_register(WIFI_EVENT, ESP_EVENT_ANY_ID, on_event,
							  NULL, NULL);
	if (err == ESP_OK)
		err = esp_event_handler_instance_register(IP_EVENT, IP_EVENT_STA_GOT_IP, on_event,
							  NULL, NULL);
	if (err != ESP_OK)
		return err;
	memset(&wc, 0, sizeof(wc));
	strncpy((char *)wc.sta.ssid, ssid, sizeof(wc.sta.ssid));
	strncpy((char *)wc.sta.password, password, sizeof(wc.sta.password));
	err = esp_wifi_set_mode(WIFI_MODE_STA);
	if (err == ESP_OK)
		err = esp_wifi_set_config(WIFI_IF_STA, &wc);
	if (err == ESP_OK)
		err = esp_wifi_start();
	return err;
}

bool
fw_wifi_wait_ip(uint32_t timeout_ms, uint32_t *ip, uint32_t *netmask)
{
	EventBits_t bits =
	    xEventGroupWaitBits(s_events, GOT_IP_BIT, pdFALSE, pdTRUE, pdMS_TO_TICKS(timeout_ms));
	if ((bits & GOT_IP_BIT) == 0)
		return false;
	portENTER_CRITICAL(&s_lock);
	*ip = s_ip;
	*netmask = s_mask;
	portEXIT_CRITICAL(&s_lock);
	return true;
}
