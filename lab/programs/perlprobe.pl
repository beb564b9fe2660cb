#!/usr/bin/perl
# Socket roles written the way Perl programs usually write them: IO::Socket::INET (whose connect
# with a Timeout is nonblocking and learns its end from a second connect), HTTP::Tiny, a server
# that forks one child per connection, and UDP through a connected IO::Socket::INET.
#
#   perlprobe.pl tcp-client HOST PORT MESSAGE TIMEOUT [close-early]
#   perlprobe.pl http-get URL TIMEOUT
#   perlprobe.pl echo-server ADDR PORT           (forks per connection; runs until a signal)
#   perlprobe.pl listen-only ADDR PORT SECONDS
#   perlprobe.pl read-some-close ADDR PORT COUNT
#   perlprobe.pl udp-client HOST PORT COUNT SIZE TIMEOUT
#   perlprobe.pl udp-echo ADDR PORT SECONDS
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;

$| = 1;
my $mode = shift @ARGV // '';

sub say_ { print join(' ', @_), "\n"; }

sub read_all { # SOCKET TIMEOUT: reads until EOF or TIMEOUT seconds without data
    my ($s, $t) = @_;
    my $sel = IO::Select->new($s);
    while ($sel->can_read($t)) {
        my $n = sysread($s, my $buf, 4096);
        last unless $n;
        say_("reply", length $buf);
    }
}

if ($mode eq 'tcp-client') {
    my ($host, $port, $msg, $t, $how) = @ARGV;
    my $s = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port, Proto => 'tcp',
                                  Timeout => $t)
        or do { say_("connect failed:", $@); exit 1 };
    syswrite($s, "$msg\n") or do { say_("send failed:", $!); exit 1 };
    if (($how // '') eq 'close-early') { close $s; exit 0 }
    shutdown($s, 1);
    read_all($s, $t);
    close $s;
} elsif ($mode eq 'http-get') {
    require HTTP::Tiny;
    my ($url, $t) = @ARGV;
    my $r = HTTP::Tiny->new(timeout => $t)->get($url);
    say_($r->{status}, length($r->{content} // ''));
} elsif ($mode eq 'echo-server') {
    my ($addr, $port) = @ARGV;
    my $l = IO::Socket::INET->new(LocalAddr => $addr, LocalPort => $port, Proto => 'tcp',
                                  Listen => 8, ReuseAddr => 1) or die "listen: $@";
    $SIG{CHLD} = 'IGNORE';
    while (1) {
        my $c = $l->accept or next;
        my $pid = fork;
        if (defined $pid && $pid == 0) {
            close $l;
            while (1) {
                my $n = sysread($c, my $buf, 4096);
                last unless $n;
                syswrite($c, $buf);
            }
            close $c;
            exit 0;
        }
        close $c;
    }
} elsif ($mode eq 'listen-only') {
    my ($addr, $port, $secs) = @ARGV;
    my $l = IO::Socket::INET->new(LocalAddr => $addr, LocalPort => $port, Proto => 'tcp',
                                  Listen => 8, ReuseAddr => 1) or die "listen: $@";
    select(undef, undef, undef, $secs);
    close $l;
} elsif ($mode eq 'read-some-close') {
    my ($addr, $port, $count) = @ARGV;
    my $l = IO::Socket::INET->new(LocalAddr => $addr, LocalPort => $port, Proto => 'tcp',
                                  Listen => 8, ReuseAddr => 1) or die "listen: $@";
    my $c = $l->accept or die "accept: $!";
    sysread($c, my $buf, $count);
    select(undef, undef, undef, 0.2);
    close $c;
    close $l;
} elsif ($mode eq 'udp-client') {
    my ($host, $port, $count, $size, $t) = @ARGV;
    my $s = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port, Proto => 'udp')
        or die "socket: $@";
    my $sel = IO::Select->new($s);
    for my $i (0 .. $count - 1) {
        my $payload = sprintf("dgram %03d ", $i);
        $payload .= '.' x ($size - length $payload);
        $s->send($payload) or say_("send failed:", $!);
        if ($sel->can_read($t)) {
            defined $s->recv(my $buf, 4096) or say_("recv failed:", $!);
        } else {
            say_("no echo for", $i);
        }
        select(undef, undef, undef, 0.05);
    }
    close $s;
} elsif ($mode eq 'udp-echo') {
    my ($addr, $port, $secs) = @ARGV;
    my $s = IO::Socket::INET->new(LocalAddr => $addr, LocalPort => $port, Proto => 'udp',
                                  ReuseAddr => 1) or die "socket: $@";
    my $sel = IO::Select->new($s);
    while ($sel->can_read($secs)) {
        my $peer = $s->recv(my $buf, 4096);
        last unless defined $peer;
        $s->send($buf, 0, $peer);
    }
    close $s;
} else {
    die "usage: perlprobe.pl MODE ARGS...\n";
}
