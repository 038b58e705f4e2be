#!/usr/bin/python3
# A real SMTP server for the e-mail tests (Debian's python3-aiosmtpd):
# STARTTLS required, AUTH required, each message written whole to
# DIR/NNNN.eml (written aside, then renamed), with the envelope and what
# the session had (TLS, login) as X-Sink-* headers in front; DIR/ready
# appears once it listens. A recipient whose local part is "refused" is
# refused for good (550), as a mail server refuses an unknown mailbox.
# usage: smtp_sink.py PORT DIR CERT KEY USER PASSWORD
import os
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

port, out, cert, key, user, password = sys.argv[1:7]


class Sink:
    def __init__(self):
        self.n = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().startswith("refused@"):
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        head = (f"X-Sink-Mail-From: {envelope.mail_from}\r\n"
                f"X-Sink-Rcpt-To: {','.join(envelope.rcpt_tos)}\r\n"
                f"X-Sink-TLS: {'yes' if session.ssl else 'no'}\r\n"
                f"X-Sink-Login: {session.auth_data.decode() if session.authenticated else '-'}\r\n")
        tmp = os.path.join(out, f".{self.n}.tmp")
        with open(tmp, "wb") as f:
            f.write(head.encode())
            f.write(envelope.original_content)
        os.rename(tmp, os.path.join(out, f"{self.n:04d}.eml"))
        return "250 OK"


def check(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and \
        auth_data.password.decode() == password
    return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)


tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
tls.load_cert_chain(cert, key)
controller = Controller(Sink(), hostname="127.0.0.1", port=int(port), tls_context=tls, require_starttls=True,
                        authenticator=check, auth_required=True)
controller.start()
open(os.path.join(out, "ready"), "w").close()
threading.Event().wait()
