# A server that reads one line and never answers (lab/killed.sh); with `answer`, echoes it.
use strict;
use warnings;
use IO::Socket::INET;

my ($port, $mode) = @ARGV;
my $listener = IO::Socket::INET->new(LocalPort => $port, Listen => 8, ReuseAddr => 1, Proto => 'tcp')
  or die "listen: $!";
my $conn = $listener->accept or die "accept: $!";
my $line = <$conn>;
if (defined $mode && $mode eq 'answer') {
    print $conn $line;
    close $conn;
} else {
    sleep 30;
}
