# Writes a header with each Lua script of a folder as a string_view constant,
# so the scripts ship inside the binary. Called at configure time; the .lua
# files are CMAKE_CONFIGURE_DEPENDS, so editing one re-runs it.
function(exceed_embed_lua dir out)
  file(GLOB scripts ${dir}/*.lua)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${scripts})
  set(text "// Generated from ${dir} by cmake/embed_lua.cmake: edit the .lua files.\n#pragma once\n#include <string_view>\nnamespace exceed::store::lua {\n")
  foreach(script ${scripts})
    get_filename_component(name ${script} NAME_WE)
    file(READ ${script} body)
    string(APPEND text "inline constexpr std::string_view ${name} = R\"lua(${body})lua\";\n")
  endforeach()
  string(APPEND text "}  // namespace exceed::store::lua\n")
  file(WRITE ${out}.tmp "${text}")
  file(COPY_FILE ${out}.tmp ${out} ONLY_IF_DIFFERENT)
endfunction()
