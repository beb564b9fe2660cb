# Tcl's network stack for lab/lang.sh. Usage:
#   tclsh lang.tcl get HOST PORT TIMEOUT_MS   socket -async, writable awaited, a GET, the answer
#   tclsh lang.tcl server PORT [COUNT|hold]   socket -server: answers COUNT requests
proc done {code} { set ::result $code }
set mode [lindex $argv 0]
if {$mode eq "get"} {
  lassign [lrange $argv 1 end] host port timeout
  if {[catch {socket -async $host $port} s]} { puts "connect: $s"; exit 1 }
  fileevent $s writable [list done connected]
  set timer [after $timeout [list done timeout]]
  vwait ::result
  after cancel $timer
  if {$::result eq "timeout"} { puts "connect timed out"; close $s; exit 1 }
  set err [fconfigure $s -error]
  if {$err ne ""} { puts "connect: $err"; close $s; exit 1 }
  fileevent $s writable {}
  fconfigure $s -translation crlf -buffering full
  puts $s "GET /tcl HTTP/1.0\nHost: lab\n"
  flush $s
  fconfigure $s -blocking 1 -translation binary
  unset ::result
  set timer [after $timeout [list done timeout]]
  fileevent $s readable [list done readable]
  set data ""
  while 1 {
    vwait ::result
    if {$::result eq "timeout"} { puts "answer timed out"; close $s; exit 1 }
    unset ::result
    append data [read $s]
    if {[eof $s]} break
  }
  puts "[string length $data] bytes"
  close $s
} elseif {$mode eq "server"} {
  lassign [lrange $argv 1 end] port arg
  set ::hold [expr {$arg eq "hold"}]
  set ::left [expr {$::hold ? 1000000 : ($arg eq "" ? 1 : $arg)}]
  proc request {c} {
    if {[gets $c line] < 0} { if {[eof $c]} { close $c }; return }
    if {$line ne ""} return
    fileevent $c readable {}
    if {$::hold} return
    set body "hello from tcl\n"
    puts -nonewline $c "HTTP/1.0 200 OK\r\nContent-Length: [string length $body]\r\nConnection: close\r\n\r\n$body"
    close $c
    if {[incr ::left -1] == 0} { after 200 { set ::forever done } }
  }
  proc accept {c addr p} {
    fconfigure $c -translation {crlf binary} -buffering full -blocking 0
    fileevent $c readable [list request $c]
  }
  set srv [socket -server accept $port]
  vwait ::forever
  close $srv
}
