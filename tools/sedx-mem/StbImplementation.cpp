// The one translation unit with stb's implementations (header-only, Debian's libstb-dev). Third-party
// code: compiled without our strict warnings.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

#define STB_TRUETYPE_IMPLEMENTATION
#include <stb/stb_truetype.h>
