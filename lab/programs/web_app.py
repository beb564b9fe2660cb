"""The WSGI application the web lab's app servers serve (lab/web.sh; gunicorn and uWSGI).

Paths: /slow answers after 5 s (a stalled back end), /big answers 200 KB (a large response),
every other path a short page. Each answer says Cache-Control: max-age=60, so a cache in front
may keep it.
"""
import time

PAGE = b"<html><body><p>" + b"web lab page " * 40 + b"</p></body></html>\n"
BIG = b"0123456789abcdef" * (200 * 1024 // 16)


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/slow":
        time.sleep(5)
    body = BIG if path == "/big" else PAGE
    start_response("200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(body))),
                              ("Cache-Control", "max-age=60")])
    return [body]
