# Perl's network stack for lab/lang.sh: LWP, core IO::Socket::INET. Usage:
#   perl lang.pl get URL [COUNT] [TIMEOUT]       LWP::UserAgent GETs
#   perl lang.pl server PORT [COUNT|hold]        IO::Socket::INET, a process forked per connection
#   perl lang.pl udp-server PORT COUNT           echoes COUNT datagrams
#   perl lang.pl udp HOST PORT COUNT             COUNT datagrams, each echo awaited 1 s
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
$| = 1;
my $mode = shift @ARGV;
if ($mode eq 'get') {
    require LWP::UserAgent;
    my ($url, $count, $timeout) = @ARGV;
    my $ua = LWP::UserAgent->new(timeout => $timeout // 3, keep_alive => 0);
    for my $i (1 .. ($count // 1)) {
        my $r = $ua->get("$url?n=$i");
        print "$i: ", $r->status_line, "\n";
        exit 1 unless $r->is_success;
    }
} elsif ($mode eq 'server') {
    my ($port, $arg) = @ARGV;
    my $hold = ($arg // '') eq 'hold';
    my $count = $hold ? 1e9 : ($arg // 1);
    my $srv = IO::Socket::INET->new(LocalPort => $port, Listen => 5, ReuseAddr => 1) or die "listen: $!";
    $SIG{CHLD} = 'IGNORE';
    for (1 .. $count) {
        my $c = $srv->accept or next;
        my $pid = fork;
        if (defined $pid && $pid == 0) {
            $srv->close;
            while (my $line = <$c>) { last if $line eq "\r\n"; }
            sleep 60 if $hold;
            my $body = "hello from perl\n";
            print $c "HTTP/1.0 200 OK\r\nContent-Length: " . length($body) . "\r\nConnection: close\r\n\r\n$body";
            close $c;
            exit 0;
        }
        close $c;
    }
    sleep 1;
} elsif ($mode eq 'udp-server') {
    my ($port, $count) = @ARGV;
    my $s = IO::Socket::INET->new(LocalPort => $port, Proto => 'udp') or die "bind: $!";
    for (1 .. $count) {
        my $peer = $s->recv(my $d, 512) // next;
        $s->send("echo $d", 0, $peer);
    }
} elsif ($mode eq 'udp') {
    my ($host, $port, $count) = @ARGV;
    my $s = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port, Proto => 'udp') or die "socket: $!";
    my $sel = IO::Select->new($s);
    for my $i (1 .. $count) {
        $s->send("ping $i");
        if ($sel->can_read(1)) { $s->recv(my $d, 512); print "$d\n"; } else { print "$i: no echo\n"; }
    }
}
