# Every Lua script of src/store/lua has a direct test in tests/store.
#
# A test file declares the scripts its cases run, through the typed store
# function that runs each, with assertions on what it wrote or returned:
#     // scripts: followup_create.lua followup_fire.lua
# (one or more such comment lines). This check fails
#   - naming every script no test file declares;
#   - naming a declared script that does not exist (renamed or deleted);
#   - naming a declaration in a file that does not include the store module
#     that runs the script (the module whose .cpp holds `scripts().<name>`),
#     so a script can't be declared where its function can't be called.
# A script no module runs by name (lua/prelude.lua, prepended to the others)
# needs only its declaration, where a case runs one of its helpers.
#
#   cmake -DLUA_DIR=<src/store/lua> -DSTORE_DIR=<src/store> -DTEST_DIR=<tests/store> -P check_scripts_tested.cmake

foreach(dir LUA_DIR STORE_DIR TEST_DIR)
  if(NOT DEFINED ${dir})
    message(FATAL_ERROR "check_scripts_tested: -D${dir}=... is required")
  endif()
endforeach()

file(GLOB lua_files "${LUA_DIR}/*.lua")
set(scripts "")
foreach(f IN LISTS lua_files)
  get_filename_component(name "${f}" NAME)
  list(APPEND scripts "${name}")
endforeach()
list(SORT scripts)
if(NOT scripts)
  message(FATAL_ERROR "check_scripts_tested: no scripts in ${LUA_DIR}")
endif()

# The store module running each script: scripts().<name> in src/store/<module>.cpp.
file(GLOB store_sources "${STORE_DIR}/*.cpp")
foreach(f IN LISTS store_sources)
  get_filename_component(module "${f}" NAME_WE)
  file(READ "${f}" text)
  string(REGEX MATCHALL "scripts\\(\\)\\.[a-z_0-9]+" runs "${text}")
  foreach(run IN LISTS runs)
    string(REGEX REPLACE "^scripts\\(\\)\\." "" name "${run}")
    set(module_of_${name} "${module}")
  endforeach()
endforeach()

set(problems "")
file(GLOB test_files "${TEST_DIR}/*.cpp")
foreach(f IN LISTS test_files)
  get_filename_component(test_name "${f}" NAME)
  file(STRINGS "${f}" lines REGEX "^// scripts:")
  file(READ "${f}" text)
  foreach(line IN LISTS lines)
    string(REGEX MATCHALL "[a-z_0-9]+\\.lua" names "${line}")
    foreach(script IN LISTS names)
      list(FIND scripts "${script}" at)
      if(at EQUAL -1)
        list(APPEND problems "${test_name} declares ${script}, which is not in ${LUA_DIR}")
        continue()
      endif()
      string(REGEX REPLACE "\\.lua$" "" name "${script}")
      if(DEFINED module_of_${name})
        set(module "${module_of_${name}}")
        string(FIND "${text}" "#include \"store/${module}.hpp\"" included)
        if(included EQUAL -1)
          list(APPEND problems
               "${test_name} declares ${script} but does not include store/${module}.hpp, whose functions run it")
          continue()
        endif()
      endif()
      set(declared_${name} "${test_name}")
    endforeach()
  endforeach()
endforeach()

set(untested "")
foreach(script IN LISTS scripts)
  string(REGEX REPLACE "\\.lua$" "" name "${script}")
  if(NOT DEFINED declared_${name})
    list(APPEND untested "${script}")
  endif()
endforeach()
if(untested)
  list(JOIN untested " " joined)
  list(APPEND problems "no test in ${TEST_DIR} declares (// scripts: ...) these scripts: ${joined}")
endif()

if(problems)
  list(JOIN problems "\n  " report)
  message(FATAL_ERROR "Lua scripts without a direct store test:\n  ${report}")
endif()
list(LENGTH scripts count)
message(STATUS "every one of the ${count} scripts of ${LUA_DIR} is declared by a test in ${TEST_DIR}")
