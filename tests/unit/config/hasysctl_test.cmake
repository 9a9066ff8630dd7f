# hasysctl config/key commands as an operator runs them: exit codes and output.
# cmake -DHASYSCTL=<binary> -DDATA=<tests/unit/config/data> -DWORK=<scratch folder> -P this file
cmake_minimum_required(VERSION 3.25)

set(failures 0)

# Runs hasysctl with the given arguments; sets rc, out (stdout) and err (stderr).
function(run)
  execute_process(COMMAND ${HASYSCTL} ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE o
                  ERROR_VARIABLE e TIMEOUT 30)
  set(rc "${code}" PARENT_SCOPE)
  set(out "${o}" PARENT_SCOPE)
  set(err "${e}" PARENT_SCOPE)
endfunction()

macro(expect_rc what code)
  if(NOT rc STREQUAL "${code}")
    message(SEND_ERROR "FAILED: ${what}: exit code ${rc}, expected ${code}\n  stdout: ${out}\n  stderr: ${err}")
  endif()
endmacro()

macro(expect_in what text haystack)
  string(FIND "${haystack}" "${text}" at)
  if(at EQUAL -1)
    message(SEND_ERROR "FAILED: ${what}: \"${text}\" not found in:\n${haystack}")
  endif()
endmacro()

file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}/keys" "${WORK}/scripts")

# key generate: 64 hex digits, mode 0600, no overwrite without --force.
run(key generate "${WORK}/keys/g.key")
expect_rc("key generate" 0)
file(READ "${WORK}/keys/g.key" key1)
expect_in("key generate output" "wrote ${WORK}/keys/g.key" "${out}")
if(NOT key1 MATCHES "^[0-9a-f]+\n$")
  message(SEND_ERROR "FAILED: key file is not hex: ${key1}")
endif()
string(STRIP "${key1}" key1_digits)
string(LENGTH "${key1_digits}" key_len)
if(NOT key_len EQUAL 64)
  message(SEND_ERROR "FAILED: key file has ${key_len} hex digits, expected 64")
endif()
execute_process(COMMAND stat -c %a "${WORK}/keys/g.key" OUTPUT_VARIABLE mode
                OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT mode STREQUAL "600")
  message(SEND_ERROR "FAILED: key file mode ${mode}, expected 600")
endif()
run(key generate "${WORK}/keys/g.key")
expect_rc("key generate over an existing key" 1)
expect_in("refusal names --force" "--force" "${err}")
file(READ "${WORK}/keys/g.key" key_again)
if(NOT key_again STREQUAL key1)
  message(SEND_ERROR "FAILED: the existing key was changed without --force")
endif()
run(key generate "${WORK}/keys/g.key" --force)
expect_rc("key generate --force" 0)
file(READ "${WORK}/keys/g.key" key2)
if(key2 STREQUAL key1)
  message(SEND_ERROR "FAILED: --force did not write a new key")
endif()

# config check on a good file.
file(WRITE "${WORK}/good.toml" [=[
[node]
name = "node-a"

[[group]]
name = "GROUP-Linux"
peer = "node-b"
key_file = "keys/g.key"
public_interface = "eth0"
polling_period = "100ms"

[group.public]
self = "198.51.100.11"
peer = "198.51.100.12"
port = 29955
]=])
run(config check "${WORK}/good.toml")
expect_rc("config check good.toml" 0)
if(NOT out STREQUAL "${WORK}/good.toml: ok (1 group)\n")
  message(SEND_ERROR "FAILED: check output: ${out}")
endif()

# config check on a bad file: every error, one per line, exit 1.
file(READ "${WORK}/good.toml" good)
string(REPLACE "polling_period = \"100ms\"" "polling_perod = \"100ms\"\npolling_count = 0" bad "${good}")
string(REPLACE "198.51.100.12" "198.51.100.300" bad "${bad}")
file(WRITE "${WORK}/bad.toml" "${bad}")
run(config check "${WORK}/bad.toml")
expect_rc("config check bad.toml" 1)
expect_in("unknown key" "${WORK}/bad.toml: group[0].polling_perod: unknown key\n" "${err}")
expect_in("count range" "${WORK}/bad.toml: group[0].polling_count: 0 is out of range 1..99\n" "${err}")
expect_in("address" "${WORK}/bad.toml: group[0].public.peer: \"198.51.100.300\" is not an IPv4 or IPv6 address\n" "${err}")
string(REGEX MATCHALL "\n" lines "${err}")
list(LENGTH lines line_count)
if(NOT line_count EQUAL 3)
  message(SEND_ERROR "FAILED: ${line_count} error lines, expected 3:\n${err}")
endif()

# Both files at once: exit 1, the good one still reported ok.
run(config check "${WORK}/good.toml" "${WORK}/bad.toml")
expect_rc("config check good and bad" 1)
expect_in("good still ok" "good.toml: ok (1 group)" "${out}")

# Usage errors exit 2.
foreach(args "" "config" "config;frob" "config;check" "key;generate" "config;import;x.sh"
        "config;check;--nope;f")
  run(${args})
  expect_rc("usage error for \"${args}\"" 2)
endforeach()
run(--help)
expect_rc("--help" 0)
expect_in("help lists config" "hasysctl config" "${out}")

# config import of the manual's sample: notes on stderr, TOML that checks ok.
file(WRITE "${WORK}/scripts/HA_APP_FCONDITION" "#!/bin/sh\nexit 0\n")
file(CHMOD "${WORK}/scripts/HA_APP_FCONDITION" PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)
run(config import "${DATA}/hasys_variable_opt.sh" --key "${WORK}/keys/g.key"
    --scripts "${WORK}/scripts" -o "${WORK}/imported.toml")
expect_rc("config import" 0)
expect_in("peer note" "note: group[0].peer = \"peer\"" "${err}")
expect_in("ignored note" "note: HM_SCKS (line 11) ignored" "${err}")
run(config check "${WORK}/imported.toml")
expect_rc("check of the imported file" 0)
run(config import "${DATA}/hasys_variable_opt.sh" --key "${WORK}/keys/g.key"
    --scripts "${WORK}/scripts" -o "${WORK}/imported.toml")
expect_rc("import refuses to overwrite" 1)
run(config import "${DATA}/hasys_variable_opt.sh" --key "${WORK}/keys/missing.key"
    --scripts "${WORK}/scripts")
expect_rc("import with a missing key" 1)
expect_in("key error" "group[0].key_file:" "${err}")

file(REMOVE_RECURSE "${WORK}")
