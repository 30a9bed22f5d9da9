"""Gunicorn settings read from the working directory (docker-compose's web service, by hand).

No PHI in logs: the access log writes the path without its query string (`%(U)s`, not the
request line `%(r)s`, which carries `?q=<patient name>`), and no referrer (`%(f)s`, the previous
page's URL with its query). Command-line options still override these.
"""

access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'
