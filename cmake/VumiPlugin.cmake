# vumi_add_plugin(<name> <sources>...): a plugin MODULE that exports only the ABI entry symbol.
function(vumi_add_plugin name)
  add_library(${name} MODULE ${ARGN})
  target_link_libraries(${name} PRIVATE vumi::sdk vumi_warnings)
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    CXX_VISIBILITY_PRESET hidden
    C_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY ${VUMI_PLUGIN_OUTPUT_DIR})
endfunction()
