# Writes melodist.1 (troff, man(7) macros) from the built binary's own --help texts, so the man page
# never disagrees with the CLI. help2man is not installed here (and is not needed for this one layout).
# cmake -DMELODIST=path/to/melodist -DVERSION=x.y.z -DOUT=melodist.1 -P make_manpage.cmake
function(troff_escape text out)
  string(REPLACE "\\" "\\\\" text "${text}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")  # a line starting with . or ' is a request
  string(REPLACE "-" "\\-" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

function(help_of out)
  execute_process(COMMAND ${MELODIST} ${ARGN} --help OUTPUT_VARIABLE help RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${MELODIST} ${ARGN} --help failed (${rc})")
  endif()
  string(REGEX REPLACE "Usage: [^ \n]*melodist" "Usage: melodist" help "${help}")  # not the build path
  set(${out} "${help}" PARENT_SCOPE)
endfunction()

help_of(root)
# The subcommands: the first word of each line under "Subcommands:".
string(REGEX MATCH "Subcommands:\n.*" listing "${root}")
string(REGEX MATCHALL "\n  [a-z][a-z-]*" names "${listing}")
troff_escape("${root}" root_text)
string(TIMESTAMP today "%Y-%m-%d" UTC)
set(page ".TH MELODIST 1 \"${today}\" \"melodist ${VERSION}\" \"User Commands\"\n")
string(APPEND page ".SH NAME\nmelodist \\- learn melodies from folk songs with an LSTM network and compose new ones\n")
string(APPEND page ".SH SYNOPSIS\n.B melodist\n.I SUBCOMMAND\n[\\fIOPTIONS\\fR]\n.SH DESCRIPTION\n.nf\n${root_text}\n.fi\n")
string(APPEND page ".SH SUBCOMMANDS\n")
foreach(entry ${names})
  string(STRIP "${entry}" name)
  help_of(sub ${name})
  troff_escape("${sub}" sub_text)
  string(APPEND page ".SS ${name}\n.nf\n${sub_text}\n.fi\n")
endforeach()
string(APPEND page ".SH ENVIRONMENT\n.TP\n.B MELODIST_MODEL\nthe model folder used when \\-\\-model is not given\n")
string(APPEND page ".TP\n.B MELODIST_MODEL_PATH\ncolon\\-separated folders searched for the bundled model (essen\\-german) before PREFIX/share/melodist/models\n")
string(APPEND page ".SH SEE ALSO\nThe README of the melodist source tree.\n")
file(WRITE ${OUT} "${page}")
