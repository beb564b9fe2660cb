<?php
// PHP's network stack for lab/lang.sh (the built-in server is `php -S`). Usage:
//   php lang.php get URL [COUNT] [TIMEOUT]      file_get_contents with an http context timeout
//   php lang.php raw HOST PORT TIMEOUT          stream_socket_client, a GET, the answer to EOF
//   php lang.php server PORT [COUNT|hold]       stream_socket_server (TCP): answers COUNT requests
//   php lang.php udp-server PORT COUNT          stream_socket_server (UDP): echoes COUNT datagrams
$mode = $argv[1];
switch ($mode) {
case 'get':
    $count = isset($argv[3]) ? (int)$argv[3] : 1;
    $ctx = stream_context_create(['http' => ['timeout' => isset($argv[4]) ? (float)$argv[4] : 3.0]]);
    for ($i = 0; $i < $count; $i++) {
        $r = @file_get_contents($argv[2] . "?n=$i", false, $ctx);
        if ($r === false) { echo "$i: failed: ", error_get_last()['message'] ?? '', "\n"; exit(1); }
        echo "$i: ", strlen($r), "\n";
    }
    break;
case 'raw':
    $s = @stream_socket_client("tcp://{$argv[2]}:{$argv[3]}", $errno, $errstr, (float)$argv[4]);
    if (!$s) { echo "connect: $errno $errstr\n"; exit(1); }
    stream_set_timeout($s, (int)$argv[4]);
    fwrite($s, "GET /raw HTTP/1.0\r\nHost: lab\r\n\r\n");
    $answer = stream_get_contents($s);
    $meta = stream_get_meta_data($s);
    echo $meta['timed_out'] ? "timed out\n" : strlen($answer) . " bytes\n";
    fclose($s);
    exit($meta['timed_out'] ? 1 : 0);
case 'server':
    $srv = stream_socket_server("tcp://0.0.0.0:{$argv[2]}", $errno, $errstr);
    if (!$srv) { echo "$errstr\n"; exit(1); }
    $hold = ($argv[3] ?? '') === 'hold';
    $count = $hold ? PHP_INT_MAX : (int)($argv[3] ?? 1);
    for ($i = 0; $i < $count; $i++) {
        $c = stream_socket_accept($srv, -1);
        if (!$c) continue;
        while (($line = fgets($c)) !== false && $line !== "\r\n");
        if ($hold) { sleep(60); }
        $body = "hello from php\n";
        fwrite($c, "HTTP/1.0 200 OK\r\nContent-Length: " . strlen($body) . "\r\nConnection: close\r\n\r\n$body");
        fclose($c);
    }
    break;
case 'udp-server':
    $srv = stream_socket_server("udp://0.0.0.0:{$argv[2]}", $errno, $errstr, STREAM_SERVER_BIND);
    if (!$srv) { echo "$errstr\n"; exit(1); }
    for ($i = 0; $i < (int)$argv[3]; $i++) {
        $d = stream_socket_recvfrom($srv, 512, 0, $peer);
        stream_socket_sendto($srv, "echo $d", 0, $peer);
    }
    break;
}
