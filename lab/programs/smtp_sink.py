#!/usr/bin/env python3
"""An SMTP sink for lab/coord.sh: accepts every message and prints its envelope.

usage: smtp_sink.py ADDRESS PORT ROUNDS   (Python 3.11's smtpd; at most ROUNDS rounds of its loop, each an event or a second)
"""

import asyncore
import smtpd
import sys


class Sink(smtpd.SMTPServer):
    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
        print("got", mailfrom, rcpttos, len(data), flush=True)


Sink((sys.argv[1], int(sys.argv[2])), None)
asyncore.loop(timeout=1, count=int(sys.argv[3]))
