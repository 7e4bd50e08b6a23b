/*
 * A libjpeg-turbo decoder for cellsense, built to a standalone wasm module (no JS glue)
 * so the same binary decodes in Node (trainer) and in workerd (Worker): the model is
 * trained on exactly the pixels it will be served.
 *
 * libjpeg reports fatal errors through error_exit, which must not return. Without JS glue
 * there is no setjmp/longjmp, so the message is kept and the instance traps; the caller
 * throws that instance away and starts a fresh one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jpeglib.h"

static struct jpeg_decompress_struct cinfo;
static struct jpeg_error_mgr jerr;
static int ready = 0;
static uint8_t *input = NULL;
static uint32_t input_size = 0;
static uint8_t *pixels = NULL;
static uint32_t out_width = 0, out_height = 0, warnings = 0;
static char message[JMSG_LENGTH_MAX];

static void fail(j_common_ptr info) {
  (*info->err->format_message)(info, message);
  __builtin_trap();
}

/* Corrupt-data warnings are counted, not printed: there is no console to print to. */
static void quiet(j_common_ptr info) { (void)info; }

static void start(void) {
  if (ready) return;
  cinfo.err = jpeg_std_error(&jerr);
  jerr.error_exit = fail;
  jerr.output_message = quiet;
  jpeg_create_decompress(&cinfo);
  ready = 1;
}

/* Room for `size` bytes of JPEG; the previous image's input and pixels are released. */
uint8_t *cs_input(uint32_t size) {
  free(input);
  free(pixels);
  pixels = NULL;
  input = malloc(size ? size : 1);
  input_size = size;
  return input;
}

static void read_header(void) {
  start();
  message[0] = 0;
  jpeg_mem_src(&cinfo, input, input_size);
  jpeg_read_header(&cinfo, TRUE);
}

/* Reads the header of the loaded JPEG: its stored (unscaled) size. */
int cs_header(void) {
  read_header();
  out_width = cinfo.image_width;
  out_height = cinfo.image_height;
  jpeg_abort_decompress(&cinfo);
  return 0;
}

/* Decodes the loaded JPEG to 8-bit RGB, scaled by 1/denom (1, 2, 4 or 8) in the IDCT. */
int cs_decode(uint32_t denom) {
  read_header();
  cinfo.out_color_space = JCS_RGB;
  cinfo.scale_num = 1;
  cinfo.scale_denom = denom;
  jpeg_start_decompress(&cinfo);
  out_width = cinfo.output_width;
  out_height = cinfo.output_height;
  size_t stride = (size_t)out_width * 3;
  pixels = malloc(stride * out_height);
  if (!pixels) {
    strcpy(message, "out of memory for the decoded pixels");
    __builtin_trap();
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = pixels + stride * cinfo.output_scanline;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  warnings = jerr.num_warnings;
  jpeg_finish_decompress(&cinfo);
  return 0;
}

uint8_t *cs_pixels(void) { return pixels; }
uint32_t cs_width(void) { return out_width; }
uint32_t cs_height(void) { return out_height; }
uint32_t cs_warnings(void) { return warnings; }
const char *cs_message(void) { return message; }
