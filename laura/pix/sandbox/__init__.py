"""The PSP sandbox: an in-memory emulator of Efí's Pix API (like stripe-mock), served over real HTTP(S).

Run it with `serve_sandbox(host, port, client_id=..., client_secret=...)` (what `laura psp-sandbox`
does), or inside a process with `start_sandbox_in_background(SandboxConfig(...))`, or mount
`create_sandbox_app(config)` yourself. State lives in memory and is lost on restart.

Efí API (all but `/oauth/token` need `Authorization: Bearer <token>`; errors are `{"nome","mensagem"}`):

    POST   /oauth/token                          Basic client_id:client_secret,
                                                 {"grant_type": "client_credentials"}
    PUT    /v2/cob/{txid}                        create a charge: 201; same body again 200; other body 409
    GET    /v2/cob/{txid}                        the charge, with `pix: [...]` once paid (status CONCLUIDA)
    PATCH  /v2/cob/{txid}                        {"status":"REMOVIDA_PELO_USUARIO_RECEBEDOR"} only
    GET    /v2/pix/{e2eId}                       a Pix received into a charge (what its webhook said)
    PUT    /v2/webhook/{chave}                   {"webhookUrl": "..."}; GET and DELETE too
    PUT    /v3/gn/pix/{idEnvio}                  send a Pix: 201 EM_PROCESSAMENTO; same body again 200
    GET    /v2/gn/pix/enviados/id-envio/{idEnvio}
    GET    /v2/gn/pix/enviados/{e2eId}

Choices where Efí leaves room, or where the sandbox is simpler:

- Expiry: like Efí, an expired charge keeps `status: ATIVA`; it just cannot be paid any more (paying
  answers 409 `cobranca_expirada`). Clients compute expiry from `calendario.criacao + expiracao`
  (`laura.pix.psp.Charge.is_payable`).
- A send settles `send_settle_delay` seconds after it is accepted (`REALIZADO`, or `NAO_REALIZADO`
  under the `send_fail_key` fault). Efí requires a webhook on the payer key before sending; the
  sandbox does not, but when one is registered it is notified of the outcome like Efí: `POST
  <url>/pix` with `{"pix":[{"endToEndId","chave","valor","horario","tipo":"SOLICITACAO","status",
  "favorecido":{"chave"},"gnExtras":{"idEnvio","erro"?}}]}`.
- A received payment is notified to the webhook of the charge's key: `POST <url>/pix` with
  `{"pix":[{"endToEndId","txid","chave","valor","horario","infoPagador"?,"pagador"?}]}`. Deliveries
  are retried with exponential backoff until a 2xx, for `webhook_max_attempts` attempts. The sandbox
  does not present a client certificate to webhook receivers (Efí does, for mTLS).
- e2eIds are `E` + ISPB (8 digits) + yyyyMMddHHmm + 11 alphanumerics (32 chars); txids 26..35 alnum.

Control routes (no OAuth), for tests and demos:

    POST   /sandbox/cob/{txid}/pay        a payer pays; optional body
                                          {"valor", "pagador": {"nome", "cpf"}, "infoPagador"}
    POST   /sandbox/pix/{idEnvio}/settle  {"status":"REALIZADO"|"NAO_REALIZADO","motivo"?} for a pending send
    POST   /sandbox/faults                add faults (grammar in `laura.pix.sandbox.faults`), e.g.
                                          {"webhook":"drop","times":2}, {"webhook":"duplicate","copies":5},
                                          {"webhook":"delay","seconds":3}, {"send_stuck":true},
                                          {"http500":{"path_prefix":"/v2/cob","count":2}},
                                          {"send_fail_key":"<key>"}
    GET    /sandbox/faults                the faults in force
    DELETE /sandbox/faults                clear all faults
    GET    /sandbox/webhooks              every delivery attempt: event, url, copy, attempt,
                                          outcome (delivered|failed|dropped|gave_up), status, error, at
    GET    /sandbox/stats                 {"tokensIssued", "requests": {"METHOD path": n}}
    POST   /sandbox/clock/advance         {"seconds": S}: expire tokens and charges without waiting
    POST   /sandbox/reset                 forget everything, faults included
"""

from laura.pix.sandbox.app import create_sandbox_app
from laura.pix.sandbox.config import SandboxConfig
from laura.pix.sandbox.server import BackgroundServer, TlsFiles, serve_sandbox, start_sandbox_in_background

__all__ = [
    "BackgroundServer",
    "SandboxConfig",
    "TlsFiles",
    "create_sandbox_app",
    "serve_sandbox",
    "start_sandbox_in_background",
]
