# The hello application for uWSGI, the nginx scenario's nginx-uwsgi peer: the same
# answer as bench/apps/hello.ts, as a WSGI callable (PEP 3333).
BODY = b'Hello, World!\n'
HEADERS = [('Content-Type', 'text/plain'), ('Content-Length', str(len(BODY)))]


def application(environ, start_response):
    start_response('200 OK', HEADERS)
    return [BODY]
