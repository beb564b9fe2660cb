<?php
// Client roles written the way PHP programs usually write them: file_get_contents on an http://
// URL, and stream_socket_client with a timeout. (The server role is PHP's own `php -S`.)
//
//   phpprobe.php http-get URL TIMEOUT
//   phpprobe.php tcp-client HOST PORT MESSAGE TIMEOUT [close-early]

$mode = $argv[1] ?? '';
if ($mode === 'http-get') {
    $ctx = stream_context_create(['http' => ['timeout' => (float)$argv[3]]]);
    $body = @file_get_contents($argv[2], false, $ctx);
    echo $body === false ? "failed\n" : strlen($body) . "\n";
} elseif ($mode === 'tcp-client') {
    [, , $host, $port, $msg, $t] = $argv;
    $how = $argv[7] ?? '';
    $s = @stream_socket_client("tcp://$host:$port", $errno, $errstr, (float)$t);
    if ($s === false) {
        echo "connect failed: $errno $errstr\n";
        exit(1);
    }
    stream_set_timeout($s, (int)$t);
    fwrite($s, "$msg\n");
    if ($how === 'close-early') {
        fclose($s);
        exit(0);
    }
    stream_socket_shutdown($s, STREAM_SHUT_WR);
    $reply = stream_get_contents($s);
    echo strlen((string)$reply) . "\n";
    fclose($s);
} else {
    fwrite(STDERR, "usage: phpprobe.php MODE ARGS...\n");
    exit(2);
}
