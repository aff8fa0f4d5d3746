/* libpng through its simplified API (png_image_*), which reports errors
 * in a return value and image.message: no setjmp for Swift to cross. */
#include <png.h>
