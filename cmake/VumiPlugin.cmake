# vumi_add_plugin(<name> <sources>...): a plugin MODULE (no "lib" prefix) that exports only the ABI
# entry symbol. Hidden visibility hides our code; the version script also hides what visibility
# cannot (RTTI of libraries such as Boost.System that mark their types visible). Used in this tree
# and installed with the SDK package (VumiSDKConfig.cmake includes it).
set(VUMI_PLUGIN_EXPORTS_MAP ${CMAKE_CURRENT_LIST_DIR}/plugin-exports.map)

function(vumi_add_plugin name)
  add_library(${name} MODULE ${ARGN})
  target_link_libraries(${name} PRIVATE vumi::sdk)
  if(TARGET vumi_warnings)  # this tree's warning flags
    target_link_libraries(${name} PRIVATE vumi_warnings)
  endif()
  target_link_options(${name} PRIVATE -Wl,--version-script=${VUMI_PLUGIN_EXPORTS_MAP})
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    CXX_VISIBILITY_PRESET hidden
    C_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LINK_DEPENDS ${VUMI_PLUGIN_EXPORTS_MAP})
  if(DEFINED VUMI_PLUGIN_OUTPUT_DIR)  # this tree gathers plugins in one folder
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${VUMI_PLUGIN_OUTPUT_DIR})
  endif()
endfunction()
