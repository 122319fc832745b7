# FILES is "|"-separated (a ";" list does not survive add_custom_command).
string(REPLACE "|" ";" FILES "${FILES}")
# Writes OUT: a header with each FILES entry as a raw string, named by its stem.
set(body "#pragma once\n// Generated from configs/*.json by src/config/embed_presets.cmake; do not edit.\nnamespace partplan::config {\nstruct Preset { const char* name; const char* json; };\ninline constexpr Preset kPresets[] = {\n")
foreach(f ${FILES})
  get_filename_component(stem ${f} NAME_WE)
  file(READ ${f} text)
  string(APPEND body "  {\"${stem}\", R\"partplan_json(${text})partplan_json\"},\n")
endforeach()
string(APPEND body "};\n}  // namespace partplan::config\n")
file(WRITE ${OUT} "${body}")
