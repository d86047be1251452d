/* A vendor's ID card reader library, simulated for the tests of hallclient/devices/idcard_sdk.py:
 * compiled by the test into a temporary shared library. Built plain, it exports the sdtapi
 * family; built with -DTERMB, the termb family, which writes the card into wz.txt and zp.bmp
 * beside the library. The test lays a card and picks a failure through sim_lay and sim_mode. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>

enum { CARD = 0, NO_CARD = 1, SELECT_FAILS = 2, READ_FAILS = 3, LINE_GONE = 4, NO_READER = 5 };

static unsigned char text[256];
static unsigned char photo[1024];
static unsigned int photo_len;
static int mode = NO_CARD;
static int open_port = -1;

void sim_lay(const unsigned char *card_text, const unsigned char *card_photo,
             unsigned int card_photo_len) {
    memcpy(text, card_text, sizeof text);
    photo_len = card_photo_len < sizeof photo ? card_photo_len : sizeof photo;
    memcpy(photo, card_photo, photo_len);
    mode = CARD;
}

void sim_mode(int new_mode) { mode = new_mode; }

/* The port the library was opened on: 1001 when it was. */
int sim_open_port(void) { return open_port; }

#ifndef TERMB

int SDT_OpenPort(int port) {
    if (mode == NO_READER || port != 1001) return 0x01;
    open_port = port;
    return 0x90;
}

int SDT_ClosePort(int port) {
    if (port == open_port) open_port = -1;
    return 0x90;
}

int SDT_StartFindIDCard(int port, unsigned char *info, int if_open) {
    (void)info; (void)if_open;
    if (port != open_port || mode == LINE_GONE) return 0x02;
    return mode == NO_CARD ? 0x80 : 0x9F;
}

int SDT_SelectIDCard(int port, unsigned char *info, int if_open) {
    (void)info; (void)if_open;
    if (port != open_port || mode == LINE_GONE) return 0x02;
    return mode == SELECT_FAILS ? 0x81 : 0x90;
}

int SDT_ReadBaseMsg(int port, unsigned char *text_out, unsigned int *text_len,
                    unsigned char *photo_out, unsigned int *photo_out_len, int if_open) {
    (void)if_open;
    if (port != open_port || mode == LINE_GONE) return 0x02;
    if (mode == READ_FAILS) return 0x41;
    memcpy(text_out, text, sizeof text);
    *text_len = sizeof text;
    memcpy(photo_out, photo, photo_len);
    *photo_out_len = photo_len;
    return 0x90;
}

#else

static int write_beside_library(const char *name, const unsigned char *data, size_t len) {
    Dl_info info;
    char path[4096], folder[4096];
    if (!dladdr((void *)write_beside_library, &info)) return 0;
    snprintf(folder, sizeof folder, "%s", info.dli_fname);
    snprintf(path, sizeof path, "%s/%s", dirname(folder), name);
    FILE *out = fopen(path, "wb");
    if (!out) return 0;
    size_t written = fwrite(data, 1, len, out);
    fclose(out);
    return written == len;
}

int InitComm(int port) {
    if (mode == NO_READER || port != 1001) return 0;
    open_port = port;
    return 1;
}

int CloseComm(void) {
    open_port = -1;
    return 1;
}

int Authenticate(void) { return open_port > 0 && mode != NO_CARD && mode != LINE_GONE; }

int Read_Content(int active) {
    if (active != 1 || mode == READ_FAILS) return 0;
    return write_beside_library("wz.txt", text, sizeof text)
        && write_beside_library("zp.bmp", photo, photo_len);
}

#endif
