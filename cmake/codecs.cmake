# Image codec libraries for the ImageDecoder op (src/ops/imagedecode.c).
# Each one is optional: found ones are linked into the INTERFACE target
# `aicc_codecs`, which also defines AICC_HAVE_<CODEC>; for a missing one the op
# reports "aicc was built without <codec> support" for that format.
# Debian packages: libjpeg62-turbo-dev libpng-dev libtiff-dev libwebp-dev
# libopenjp2-7-dev. Turn all of them off with -DAICC_CODECS=OFF.
option(AICC_CODECS "Link image codec libraries (JPEG, PNG, TIFF, WebP, JPEG 2000) for ImageDecoder" ON)

find_package(PkgConfig QUIET)
add_library(aicc_codecs INTERFACE)

# name in AICC_HAVE_<name>, pkg-config module
set(_aicc_codecs JPEG libjpeg PNG libpng TIFF libtiff-4 WEBP libwebp OPENJP2 libopenjp2)
set(_aicc_codecs_found "")
set(_aicc_codecs_missing "")
while(_aicc_codecs)
  list(POP_FRONT _aicc_codecs _name _module)
  if(AICC_CODECS AND PKG_CONFIG_FOUND)
    pkg_check_modules(AICC_CODEC_${_name} QUIET IMPORTED_TARGET ${_module})
  endif()
  if(AICC_CODEC_${_name}_FOUND)
    target_link_libraries(aicc_codecs INTERFACE PkgConfig::AICC_CODEC_${_name})
    target_compile_definitions(aicc_codecs INTERFACE AICC_HAVE_${_name}=1)
    list(APPEND _aicc_codecs_found ${_module})
  else()
    list(APPEND _aicc_codecs_missing ${_module})
  endif()
endwhile()
message(STATUS "ImageDecoder codecs found: ${_aicc_codecs_found}")
if(_aicc_codecs_missing)
  message(STATUS "ImageDecoder codecs missing (those formats report an error): ${_aicc_codecs_missing}")
endif()
