"""The published signers: danchuang's own keys, for the messages no real party signs.

- The *sample signer* signs what ``danchuang samples`` writes (and every other sample file).
- The *stand-in signer* signs what the clearance engine sends when it plays a party
  (``app.services.stand_ins``: the site's and the carrier's records).

The CEB spec makes a signature part of a declared message (CEB spec 202205 §6 p. 109; the 清单
schema requires ``ds:Signature``), so both sign for real, and their signatures verify. Both keys
are RSA (the 2018 algorithm, RSA-SHA1, §6.2.1.2 p. 110): their PKCS#1 v1.5 signatures are
deterministic, so the same seed still writes the same bytes. Their private keys are published
right here: trust nothing either signs. Integrators sign with their own key (``danchuang
sign``, ``danchuang certs issue``).

The sample signer's key is RSA-2048. The stand-in signer's is RSA-1024, the size of the
certificates in the official 202205 samples (an observation of the published samples: each
carries an RSA-1024 certificate of the E-Port's development CA): a 1024-bit signature costs
about a third of a 2048-bit one or less, and signing was most of the engine's raw floor
(docs/performance.md, "What this machine allows"). Each has a subject CN of its own, so that a
message says which one signed it.

danchuang registers neither certificate to an enterprise: a real enterprise's message signed with
either key is judged like one signed with any key nobody registered (``signature_check``),
and danchuang's own played messages are not judged for their signature at all
(``app.services.submission.played``).
"""

from __future__ import annotations

from functools import cache

from declarations.pki import Signer, load_certificate, load_private_key

__all__ = ["published_certificates", "sample_signer", "stand_in_signer"]

_KEY = """\
-----BEGIN PRIVATE KEY-----
MIIEvwIBADANBgkqhkiG9w0BAQEFAASCBKkwggSlAgEAAoIBAQCnVqG2MPsIDq7k
VNyTuRKFS9IXOHpLR3fEwPFfV51veIH8NoYwPob4bs7XA7iqRrIadze5MlG/Dtz+
Utzq7hU1sA4rOgvq0aRa9v5suX3WMvXjUi8yf2kQBf/k+HP8dbsJAS2rdMYmiogf
8w8aTOVMAe/y+M0U6EXZ52ZQQAouutJ0BlC41ZDDBVUG4PgJ2apHwjZFV+wq+uNr
bbkX/wUmKlE2b/5i8Kj8ybfZ0wdos3S7cN910/HB5oLQhCyZCetKhGHoPzc6vo43
O9lolQJ1qMHORszrK/5A0aAW8sHBxRH1mZ1gKr986RQek4kH6Qlgeh0NlSAXxX5M
JP3Dy4yTAgMBAAECggEAISXCBssRDvmJn2VIBGMmzgzE4yCm6P6RNQJbTd2XLBuc
9A8A6dGY/uFES8dK7z/ty9xNx3u2Qbh6Ak77v/XFccscI2fuMGeyvOosX/EmgiW6
G3uOKdyfPTNTC1JD94CCujfnig0pqzzJ1jpZhYYx7ap8k47BYSDZpV53H/Jvke3R
5SzKsMvRAKhrE+tJMF80tjiu50jgdNNxOiEEDdtk/DfAd0UZQu13umLRLupUmfaT
HoQFEoEZK8/1mhCt5aBxW9yPezNpqhvqVLq7Dbv0B3q3UTPVtovWgOAXXA3+CnOV
25dR4qxrf6VGzY75dxhtLO0zFbLohhcocMf/twiagQKBgQDZbkW7xXV4Kcs/z4WG
2SMyHCvFa354xA1MNERxDUdmg+P9lw/D2vOSazR2S4RLnwPLY9Fh+8kUbvjsVg7N
qUkXAjWTyLNym+OvprTrmusuA5IrKpeRFdnAH2POuOUfDcMG8hwVYjZ7XXZjLRXT
vFEDp3Slx/WQZW/T9pqCdft84QKBgQDFBZ7TE1nAFmscbU2Jpjve9c3y9ivOFCWs
FlfQ6w71/9l1/lCPj8iAs9hPri8c4aRcS8TOykIqLEt290cwMezxOY8kvIkv+8g0
uf8Gj+G4TBfz/l87oOpWzjNTKLRsEjI7TbEWrul01DjdS8WV8JH7mYCEHIcax3De
MqsCXOlj8wKBgQDVDtxgKhZ4wCN9DMHgKIf3g2lU04ejmSEaqiDi0stDZjwTc2Is
XjHNKSXIQSmK3G/gbphvNkWMs01ScOWim56WYEDV5pYI2T7cETQ5pp2Lgk5J5DuP
HOU6AMhRehZyPo78EGR6g7m1Wxk2B6jayS5tsTp5dJ5pdyyEfKJc8nWToQKBgQCP
PJzRW/oeGq5YhmaeskpIuG+4OZxzQFZ7G+tQKfRAiHdyvyeWl7PvTdDvbPU3jBxQ
NY2pwYYE3xsmLHSG52UZov0cei1Kw0Q0gRyVirlRoZCwhLh7w2tbHKJXzPoOr9Px
JXSfxx5XH4sP5+yIK9QWFO1IHu1iXKkEAdYt65qKXQKBgQCE0TFgNKaaVe1rz7qr
UvrDZPF9cYgPK2FUDRCYuLOSyD93dFvtba0OsngdadfDYXQnfbYiMP8sR03jPTKI
QhDd7jYVM5QtOuXMtz58BwwcAhHByUDSyozVGetnltKZmA+i/ptq1gvPlLkVUVd8
+SrkX0D1DRp26g8R1l3bngX/LQ==
-----END PRIVATE KEY-----
"""

_CERTIFICATE = """\
-----BEGIN CERTIFICATE-----
MIIDVDCCAjygAwIBAgIIfrKoCc2PbtUwDQYJKoZIhvcNAQELBQAwWTELMAkGA1UE
BhMCQ04xSjBIBgNVBAMMQWRhbmNodWFuZyBzYW1wbGUgc2lnbmVyIChwdWJsaWMg
dGVzdCBrZXk6IHRydXN0IG5vdGhpbmcgaXQgc2lnbnMpMB4XDTI2MDEwMTAwMDAw
MFoXDTQ2MDEwMTAwMDAwMFowWTELMAkGA1UEBhMCQ04xSjBIBgNVBAMMQWRhbmNo
dWFuZyBzYW1wbGUgc2lnbmVyIChwdWJsaWMgdGVzdCBrZXk6IHRydXN0IG5vdGhp
bmcgaXQgc2lnbnMpMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAp1ah
tjD7CA6u5FTck7kShUvSFzh6S0d3xMDxX1edb3iB/DaGMD6G+G7O1wO4qkayGnc3
uTJRvw7c/lLc6u4VNbAOKzoL6tGkWvb+bLl91jL141IvMn9pEAX/5Phz/HW7CQEt
q3TGJoqIH/MPGkzlTAHv8vjNFOhF2edmUEAKLrrSdAZQuNWQwwVVBuD4CdmqR8I2
RVfsKvrja225F/8FJipRNm/+YvCo/Mm32dMHaLN0u3DfddPxweaC0IQsmQnrSoRh
6D83Or6ONzvZaJUCdajBzkbM6yv+QNGgFvLBwcUR9ZmdYCq/fOkUHpOJB+kJYHod
DZUgF8V+TCT9w8uMkwIDAQABoyAwHjAMBgNVHRMBAf8EAjAAMA4GA1UdDwEB/wQE
AwIHgDANBgkqhkiG9w0BAQsFAAOCAQEAXV52rI0amCIp1/uFhXqC+/MVq0s25Hw8
Z/coJoeU/bj+VYRi7dDgPIeugqCXyzBO9n7sm/6to5c9GVdUV2iabUzOhGaS3jig
5v08mVFdxN5WY8ZEPk7VDFCYTOHTbgnSs4dQ2hMuLMSNvnMfzUsXYh0AkEUwHYEU
DgwUlK8vDyEGhbJzssw514cRyy10OOTs26fs2LB28HYUGXGcphHtuAjyTSdwgM/e
N/K4DEDvQFmWvdIZvLgwAnIQBtQHvT5lvyDtQvkEeBBiA3PW985wgvncfPk21AcT
YfpdgceWkXN+24K+FDSsuCrnrfSBDRe4xWl3iQhWZ2eTKud5Qdrtfw==
-----END CERTIFICATE-----
"""


_STAND_IN_KEY = """\
-----BEGIN PRIVATE KEY-----
MIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBAMutbejRAQw5jwlt
n8/18Zt/QmlyMr8ZPvCE6bkLwFw4oy0fUQ2pUHq/kz+9oFdHTXwf2Gs2tXUMxNM8
9/poCXUBEg5chbpQXySCjC7NjU/oWDlrrU0rNC7vvgcT305/6baQZOgfQVxtBRcA
oJkR7EXKC8GlQEVMc96Ps6ite/UjAgMBAAECgYAHUA2/Kynfd32UOBRh0hG/pH0M
7iW2SMDCv/LoSuy4Iuxw5Uvysp6KGbC+vB8yowO8LiSGDOvM7Q1wDCNXIT8dnOiU
P9gH3TLxnqOpsmnpbn8gpiPOQNni8JzebBD8aAw/6HqN8wzx4zJn4WwDiDSyGUPV
9X9GuzYRmYgsBYV6UQJBAO0t/zEKl5r0JUGJ/g7LaiP8jljJRbvBfLlGuLyJWlDq
7JeVB5Gjz/OzYdnv6NxV62+3rMBFRuhC5mCOzH1VW0sCQQDb1uCq2iW64PP8ABYw
tfJX04wJl+/dGbkDPkrd36PHWVAmBXe3L/8hfORHcx0zRx2KGPr26AnDFZK4QN6d
cA6JAkBVivJwaKaXX5kUU0XLZjhI9G0OvsEk37sxQ72bWlq1tpVQcpLBR3jYJ4mS
RgIRffelWnS3AAV7/a0DhF1ikueTAkBLt1px/eh40Pm3laAO7tuk/CuDMl1e3Xkn
cNEAUgJqqow8TC3LXjCVLBrDsRYhjyDRa4EkgQ67rjZ2V4FU4D9hAkEA3VTF/eE1
oP4gxAiTTAHGChmUE8x+XgjlpSDmckI+ex4hCPwbv4mfDE0VgZ3/IvuKXElvdYd3
S04hUS8RLq6Rbw==
-----END PRIVATE KEY-----
"""

_STAND_IN_CERTIFICATE = """\
-----BEGIN CERTIFICATE-----
MIICVTCCAb6gAwIBAgIUPvbXf1AaY7UBw1KdyBZ7WX1P0S0wDQYJKoZIhvcNAQEL
BQAwVjELMAkGA1UEBhMCQ04xRzBFBgNVBAMMPmRhbmNodWFuZyBzdGFuZC1pbiBz
aWduZXIgKHB1YmxpYyBrZXk6IHRydXN0IG5vdGhpbmcgaXQgc2lnbnMpMB4XDTI2
MDEwMTAwMDAwMFoXDTQ2MDEwMTAwMDAwMFowVjELMAkGA1UEBhMCQ04xRzBFBgNV
BAMMPmRhbmNodWFuZyBzdGFuZC1pbiBzaWduZXIgKHB1YmxpYyBrZXk6IHRydXN0
IG5vdGhpbmcgaXQgc2lnbnMpMIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDL
rW3o0QEMOY8JbZ/P9fGbf0JpcjK/GT7whOm5C8BcOKMtH1ENqVB6v5M/vaBXR018
H9hrNrV1DMTTPPf6aAl1ARIOXIW6UF8kgowuzY1P6Fg5a61NKzQu774HE99Of+m2
kGToH0FcbQUXAKCZEexFygvBpUBFTHPej7OorXv1IwIDAQABoyAwHjAMBgNVHRMB
Af8EAjAAMA4GA1UdDwEB/wQEAwIHgDANBgkqhkiG9w0BAQsFAAOBgQCQolM3t+N4
iz6yjs4bjUNvPzEoJ7yBmtLSbfo+O/3u+iasYv7IvcRcdMHVQh5Iepi7PpO47IYf
3vwvMahMGkhif2aczp0aCFEEE6fB0ZIWZeawdy1yjLkbrEfzKVUNA5fLx8ZGeUB3
0OH48TYyVcR/dsPkHuX/WRxf1b/JE6hYSA==
-----END CERTIFICATE-----
"""


@cache
def sample_signer() -> Signer:
    """The sample signer's RSA-2048 key and its self-signed certificate (valid 2026–2045)."""
    return load_private_key(_KEY), load_certificate(_CERTIFICATE)


@cache
def stand_in_signer() -> Signer:
    """The stand-in signer's RSA-1024 key and its self-signed certificate (valid 2026–2045)."""
    return load_private_key(_STAND_IN_KEY), load_certificate(_STAND_IN_CERTIFICATE)


def published_certificates() -> frozenset[str]:
    """The fingerprints of the two certificates whose private keys are published here: no
    enterprise may register them as its own (``app.services.certificates.register``), since
    anyone can sign with them."""
    return frozenset(cert.fingerprint for _key, cert in (sample_signer(), stand_in_signer()))
