// WebAuthn over JSON: the server (webauthn-rs) sends options with binary fields as
// base64url strings and wants the credential back the same way; the browser API speaks
// ArrayBuffers. Nothing here is logged: the answers are single-use but still credentials.
import { t } from "./i18n";

export function fromB64url(s: string): ArrayBuffer {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out.buffer;
}

export function toB64url(buf: ArrayBuffer | ArrayBufferView): string {
  const bytes = buf instanceof ArrayBuffer ? new Uint8Array(buf) : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  let bin = "";
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The browser can make and use passkeys here (a secure context with WebAuthn). */
export function passkeysSupported(): boolean {
  return window.isSecureContext && typeof window.PublicKeyCredential === "function" && !!navigator.credentials;
}

type Json = any;

// WebIDL turns a null into "null" or a TypeError depending on the member; absent is safe.
function dropNulls(v: Json): Json {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (v && typeof v === "object") {
    const out: Record<string, Json> = {};
    for (const k of Object.keys(v)) if (v[k] !== null) out[k] = dropNulls(v[k]);
    return out;
  }
  return v;
}

function descriptors(list: Json): PublicKeyCredentialDescriptor[] | undefined {
  if (!Array.isArray(list)) return undefined;
  return list.map((c: Json) => ({ ...c, id: fromB64url(c.id) }));
}

/** `{publicKey: {challenge, allowCredentials, ...}}` → options for credentials.get. */
export function requestOptions(options: Json): CredentialRequestOptions {
  const pk = dropNulls(options?.publicKey ?? {});
  pk.challenge = fromB64url(pk.challenge);
  if (pk.allowCredentials) pk.allowCredentials = descriptors(pk.allowCredentials);
  return { publicKey: pk as PublicKeyCredentialRequestOptions };
}

/** `{publicKey: {challenge, user, excludeCredentials, ...}}` → options for credentials.create. */
export function creationOptions(options: Json): CredentialCreationOptions {
  const pk = dropNulls(options?.publicKey ?? {});
  pk.challenge = fromB64url(pk.challenge);
  pk.user = { ...pk.user, id: fromB64url(pk.user.id) };
  if (pk.excludeCredentials) pk.excludeCredentials = descriptors(pk.excludeCredentials);
  return { publicKey: pk as PublicKeyCredentialCreationOptions };
}

/** Asks for an assertion and returns it as the JSON the server reads. */
export async function getAssertion(options: Json): Promise<Json> {
  const cred = (await navigator.credentials.get(requestOptions(options))) as PublicKeyCredential | null;
  if (!cred) throw new DOMException("no credential", "NotAllowedError");
  const r = cred.response as AuthenticatorAssertionResponse;
  return {
    id: cred.id,
    rawId: toB64url(cred.rawId),
    type: cred.type,
    response: {
      authenticatorData: toB64url(r.authenticatorData),
      clientDataJSON: toB64url(r.clientDataJSON),
      signature: toB64url(r.signature),
      userHandle: r.userHandle ? toB64url(r.userHandle) : null,
    },
    extensions: {},
  };
}

/** Makes a passkey and returns its attestation as the JSON the server reads. */
export async function createPasskey(options: Json): Promise<Json> {
  const cred = (await navigator.credentials.create(creationOptions(options))) as PublicKeyCredential | null;
  if (!cred) throw new DOMException("no credential", "NotAllowedError");
  const r = cred.response as AuthenticatorAttestationResponse;
  return {
    id: cred.id,
    rawId: toB64url(cred.rawId),
    type: cred.type,
    response: {
      attestationObject: toB64url(r.attestationObject),
      clientDataJSON: toB64url(r.clientDataJSON),
    },
    extensions: {},
  };
}

/** A browser-side WebAuthn failure, in words. */
export function passkeyProblem(e: unknown): string {
  const name = e instanceof DOMException || e instanceof Error ? e.name : "";
  switch (name) {
    case "NotAllowedError":
    case "AbortError":
      return t("passkey.cancelled");
    case "InvalidStateError":
      return t("passkey.exists");
    case "SecurityError":
      return t("passkey.security");
    case "NotSupportedError":
      return t("passkey.unsupported");
    default:
      return t("passkey.failed");
  }
}
