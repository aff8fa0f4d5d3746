/* Generates Sources/Dnic/Plot/Glyphs.swift: DejaVu Sans at 11 px, printable
 * ASCII, rendered by FreeType as 8-bit coverage, for the PNG plots' text
 * (LineRaster). Run: cc scripts/glyphs.c -I/usr/include/freetype2 -lfreetype
 * -o /tmp/glyphs && /tmp/glyphs FONT.ttf > glyphs.bin (then base64). */
#include <ft2build.h>
#include FT_FREETYPE_H
#include <stdio.h>

int main(int argc, char **argv) {
    FT_Library lib;
    FT_Face face;
    if (argc < 2 || FT_Init_FreeType(&lib) || FT_New_Face(lib, argv[1], 0, &face) || FT_Set_Pixel_Sizes(face, 0, 11)) return 1;
    for (int c = 32; c < 127; c++) {
        if (FT_Load_Char(face, c, FT_LOAD_RENDER)) return 1;
        FT_GlyphSlot g = face->glyph;
        unsigned char head[5] = {(unsigned char)(g->advance.x >> 6), (unsigned char)(signed char)g->bitmap_left,
                                 (unsigned char)(signed char)g->bitmap_top, (unsigned char)g->bitmap.width,
                                 (unsigned char)g->bitmap.rows};
        fwrite(head, 1, 5, stdout);
        for (unsigned r = 0; r < g->bitmap.rows; r++) fwrite(g->bitmap.buffer + r * g->bitmap.pitch, 1, g->bitmap.width, stdout);
    }
    return 0;
}
