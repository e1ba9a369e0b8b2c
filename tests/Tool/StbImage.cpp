// stb_image's implementation, to read the pictures back (third-party code, built without our warnings).
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#include <stb/stb_image.h>
