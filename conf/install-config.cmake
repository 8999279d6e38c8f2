# install-config.cmake - install-time part of conf/CMakeLists.txt.
#
# Lays down main.cf and master.cf unless they exist, and creates the queue
# folders with their modes and (as root, without DESTDIR) their owners.
# The folder table is lib/global/mail_queue.c's, written out again because this
# runs before any surel program is installed; the install test checks the
# result with `surel check`, so the two can't drift apart unnoticed.
# Commands run with execute_process argv lists, never through a shell.

# surel_full - the absolute install path of a destination, DESTDIR included
function(surel_full out dest)
  if(IS_ABSOLUTE "${dest}")
    set(path "${dest}")
  else()
    set(path "${CMAKE_INSTALL_PREFIX}/${dest}")
  endif()
  set(${out} "$ENV{DESTDIR}${path}" PARENT_SCOPE)
endfunction()

# file(INSTALL) adds DESTDIR itself; everything else needs it spelled out.
set(ENV_DESTDIR "$ENV{DESTDIR}")
set(ENV{DESTDIR} "")
surel_full(config_target "${SUREL_CONFIG_DEST}")
set(ENV{DESTDIR} "${ENV_DESTDIR}")
surel_full(config_dir "${SUREL_CONFIG_DEST}")
surel_full(queue_dir "${SUREL_QUEUE_DEST}")
surel_full(data_dir "${SUREL_DATA_DEST}")

# Configuration: a site's own files are never replaced.
file(MAKE_DIRECTORY "${config_dir}")
foreach(name main.cf master.cf)
  if(EXISTS "${config_dir}/${name}")
    message(STATUS "Keeping existing: ${config_dir}/${name}")
  else()
    file(INSTALL "${SUREL_CONF_SRC}/${name}" DESTINATION "${config_target}"
         PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  endif()
endforeach()

# Owners: only a root install onto this machine can and should set them.
execute_process(COMMAND id -u OUTPUT_VARIABLE uid OUTPUT_STRIP_TRAILING_WHITESPACE)
set(chown_ok FALSE)
if(uid STREQUAL "0" AND "$ENV{DESTDIR}" STREQUAL "")
  execute_process(COMMAND getent passwd "${SUREL_MAIL_OWNER}" RESULT_VARIABLE no_user
                  OUTPUT_QUIET ERROR_QUIET)
  execute_process(COMMAND getent group "${SUREL_SETGID_GROUP}" RESULT_VARIABLE no_group
                  OUTPUT_QUIET ERROR_QUIET)
  if(no_user OR no_group)
    message(WARNING "surel: account ${SUREL_MAIL_OWNER} or group ${SUREL_SETGID_GROUP} "
            "is missing (tools/install-deps creates them); queue owners not set. "
            "Create them, then run `surel check -f`.")
  else()
    set(chown_ok TRUE)
  endif()
else()
  message(STATUS "surel: not root or DESTDIR set: queue folder owners left for "
          "`surel check -f` on the target machine")
endif()

# name|owner|group|mode, as in lib/global/mail_queue.c; "-" group: owner's group.
set(surel_queue_folders
  ".|root|-|0755"
  "maildrop|mail|setgid|1730"
  "temp|mail|-|0700"
  "incoming|mail|-|0700"
  "active|mail|-|0700"
  "deferred|mail|-|0700"
  "hold|mail|-|0700"
  "corrupt|mail|-|0700"
  "bounce|mail|-|0700"
  "defer|mail|-|0700"
  "private|mail|-|0700"
  "public|mail|setgid|2710"
  "pid|root|-|0755")

# surel_folder - create one folder, set its owner (when allowed), then its mode
function(surel_folder path owner group mode)
  file(MAKE_DIRECTORY "${path}")
  if(chown_ok)
    if(owner STREQUAL "root")
      set(who "root:root")
    elseif(group STREQUAL "setgid")
      set(who "${SUREL_MAIL_OWNER}:${SUREL_SETGID_GROUP}")
    else()
      set(who "${SUREL_MAIL_OWNER}:")
    endif()
    execute_process(COMMAND chown "${who}" "${path}" RESULT_VARIABLE failed)
    if(failed)
      message(FATAL_ERROR "chown ${who} ${path} failed")
    endif()
  endif()
  # chmod after chown: chown may clear the set-gid bit.
  execute_process(COMMAND chmod "${mode}" "${path}" RESULT_VARIABLE failed)
  if(failed)
    message(FATAL_ERROR "chmod ${mode} ${path} failed")
  endif()
endfunction()

message(STATUS "Installing: queue folders in ${queue_dir}")
foreach(entry ${surel_queue_folders})
  string(REPLACE "|" ";" fields "${entry}")
  list(GET fields 0 name)
  list(GET fields 1 owner)
  list(GET fields 2 group)
  list(GET fields 3 mode)
  if(name STREQUAL ".")
    surel_folder("${queue_dir}" ${owner} ${group} ${mode})
  else()
    surel_folder("${queue_dir}/${name}" ${owner} ${group} ${mode})
  endif()
endforeach()
message(STATUS "Installing: ${data_dir}")
surel_folder("${data_dir}" mail - 0700)
