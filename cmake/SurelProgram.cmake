# surel_program(NAME [OUTPUT_NAME out] [DESTINATION dir] [SOURCES file...])
#
# The one way a program folder builds its program: an executable from the
# given sources (default: every .c file of the folder), the folder on its
# include path, linked with libsurel (lib/global, which brings lib/util),
# written to the build's bin/ and installed into DESTINATION (default
# daemon_directory). OUTPUT_NAME names the file when the CMake target
# name must differ (the `surel` command's target is surel-admin).
function(surel_program name)
  cmake_parse_arguments(PROG "" "OUTPUT_NAME;DESTINATION" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT PROG_SOURCES)
    file(GLOB PROG_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.c)
  endif()
  if(NOT PROG_DESTINATION)
    set(PROG_DESTINATION ${SUREL_DAEMON_DIR})
  endif()
  set(main ${name})
  if(PROG_OUTPUT_NAME)
    set(main ${PROG_OUTPUT_NAME})
  endif()
  # The main file, named after the program, opens with its man-page comment.
  if(NOT EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${main}.c)
    message(FATAL_ERROR "${CMAKE_CURRENT_SOURCE_DIR}: program ${main} has no main file ${main}.c")
  endif()
  if(SUREL_SANITIZE)
    list(APPEND PROG_SOURCES ${CMAKE_SOURCE_DIR}/tests/sanitize/sanitize_options.c)
  endif()
  add_executable(${name} ${PROG_SOURCES})
  if(SUREL_SANITIZE)
    target_compile_definitions(${name} PRIVATE
      SUREL_SANITIZE_LOG_DIR="${SUREL_SANITIZE_LOG_DIR}")
  endif()
  target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(${name} ${PROG_LIBRARIES} surel)
  if(PROG_OUTPUT_NAME)
    set_target_properties(${name} PROPERTIES OUTPUT_NAME ${PROG_OUTPUT_NAME})
  endif()
  install(TARGETS ${name} RUNTIME DESTINATION ${PROG_DESTINATION})
endfunction()
