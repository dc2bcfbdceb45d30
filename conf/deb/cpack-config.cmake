# Read by cpack for each generator (CPACK_PROJECT_CONFIG_FILE). The .deb's
# paths (/usr/bin, /etc/socdir, the unit's ExecStart) hold only for a build
# configured with the prefix /usr.
if(CPACK_GENERATOR STREQUAL "DEB" AND NOT CPACK_SOCDIR_CONFIGURED_PREFIX STREQUAL "/usr")
    message(FATAL_ERROR "the .deb needs a build configured with -DCMAKE_INSTALL_PREFIX=/usr "
                        "(this one has ${CPACK_SOCDIR_CONFIGURED_PREFIX})")
endif()
