// @ts-check
// Secured listeners for the local Kafka broker, so that SASL and TLS can be tested against a real broker:
// SASL_PLAINTEXT and SASL_SSL (mechanisms PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512) and SSL, next to the
// PLAINTEXT listener the broker always has (inter-broker and controller traffic stay on PLAINTEXT).
//
// TLS material is made once per data dir with the JDK's keytool (no openssl needed) under <dataDir>/tls/:
//   ca.p12      the self-signed CA (key and certificate); signs the broker's certificate
//   ca.pem      the CA certificate in PEM: what a client trusts (kafkajs `ssl.ca`, Kafka `ssl.truststore.type=PEM`)
//   broker.p12  the broker's key store (key + certificate for 127.0.0.1 and localhost, signed by the CA)
//   password    the key stores' password (mode 0600)
//
// Every user is a PLAIN user (in the listeners' JAAS configuration) and a SCRAM-SHA-256 and -512 user (credentials
// in the cluster metadata, added when the storage is formatted; `scramArguments`).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { HOST, javaBin, run } from './common.mjs';

/** @typedef {{ name: string; password: string }} KafkaUser */

/**
 * @typedef {object} KafkaSecurity  what startKafka's `security` option asks for
 * @property {KafkaUser[]} users  SASL users (PLAIN and SCRAM); at least one
 * @property {{ saslPlaintext?: number; saslSsl?: number; ssl?: number }} [ports]  0 or absent: a free port
 * @property {string[]} [superUsers]  switches ACLs on (KRaft's StandardAuthorizer): these users may do anything,
 *   every other user only what an ACL allows. The PLAINTEXT and controller listeners' principal (ANONYMOUS) is a super
 *   user too, so the broker itself and PLAINTEXT clients (tests creating ACLs) keep working.
 */

/**
 * @typedef {object} SecureListeners  where the secured listeners are, recorded in broker.json
 * @property {string} saslPlaintext  host:port of SASL_PLAINTEXT
 * @property {string} saslSsl  host:port of SASL_SSL
 * @property {string} ssl  host:port of SSL (TLS without SASL)
 * @property {string} caFile  the CA certificate (PEM) that clients trust
 * @property {string[]} mechanisms  SASL mechanisms every SASL listener accepts
 * @property {string[]} users  user names (their passwords are the caller's)
 */

export const LISTENERS = /** @type {const} */ (['SASL_PLAINTEXT', 'SASL_SSL', 'SSL']);
export const MECHANISMS = /** @type {const} */ (['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']);
const SAFE = /^[A-Za-z0-9._-]+$/;

/**
 * Throws when a user name or password could break the JAAS line or the StorageTool argument they go into.
 * @param {KafkaSecurity} security
 */
export function checkSecurity(security) {
  if (!security.users?.length) throw new Error('Kafka security needs at least one user ({ name, password })');
  for (const name of security.superUsers ?? []) {
    if (!SAFE.test(name)) throw new Error(`super user "${name}": names may use only letters, digits, '.', '_' and '-'`);
  }
  for (const { name, password } of security.users) {
    if (!SAFE.test(name) || !SAFE.test(password)) throw new Error(`Kafka user "${name}": names and passwords may use only letters, digits, '.', '_' and '-'`);
  }
}

/** @param {string} dataDir */
export function tlsPaths(dataDir) {
  const dir = path.join(path.resolve(dataDir), 'tls');
  return { dir, ca: path.join(dir, 'ca.p12'), caPem: path.join(dir, 'ca.pem'), keyStore: path.join(dir, 'broker.p12'), password: path.join(dir, 'password') };
}

/** keytool beside the java the stack runs (JAVA, JAVA_HOME), else the one on the PATH. */
function keytoolBin() {
  const java = javaBin();
  return java.includes(path.sep) ? path.join(path.dirname(java), 'keytool') : 'keytool';
}

/**
 * Makes the CA and the broker's key store in <dataDir>/tls once; later starts reuse them (clients keep trusting the CA).
 * @param {string} dataDir
 * @param {import('./common.mjs').Progress} onProgress
 * @returns {Promise<ReturnType<typeof tlsPaths> & { storePassword: string }>}
 */
export async function ensureTlsMaterial(dataDir, onProgress) {
  const p = tlsPaths(dataDir);
  if (fs.existsSync(p.keyStore) && fs.existsSync(p.caPem) && fs.existsSync(p.password)) {
    return { ...p, storePassword: fs.readFileSync(p.password, 'utf8').trim() };
  }
  onProgress(`TLS: making a CA and the broker's key store in ${p.dir} (keytool)`);
  fs.rmSync(p.dir, { recursive: true, force: true });
  fs.mkdirSync(p.dir, { recursive: true, mode: 0o700 });
  const storePassword = randomBytes(12).toString('hex');
  const keytool = keytoolBin();
  const san = `SAN=ip:${HOST},dns:localhost`;
  const csr = path.join(p.dir, 'broker.csr');
  const signed = path.join(p.dir, 'broker.pem');
  const store = (/** @type {string} */ file) => ['-keystore', file, '-storetype', 'PKCS12', '-storepass', storePassword];
  /** @type {string[][]} */
  const steps = [
    ['-genkeypair', '-alias', 'ca', '-keyalg', 'RSA', '-keysize', '2048', '-validity', '3650', '-dname', 'CN=flinkfn local Kafka CA', '-ext', 'bc:c', ...store(p.ca)],
    ['-exportcert', '-rfc', '-alias', 'ca', '-file', p.caPem, ...store(p.ca)],
    ['-genkeypair', '-alias', 'broker', '-keyalg', 'RSA', '-keysize', '2048', '-validity', '3650', '-dname', 'CN=localhost', '-ext', san, ...store(p.keyStore)],
    ['-certreq', '-alias', 'broker', '-file', csr, ...store(p.keyStore)],
    ['-gencert', '-rfc', '-alias', 'ca', '-infile', csr, '-outfile', signed, '-validity', '3650', '-ext', san, '-ext', 'KU=digitalSignature,keyEncipherment', '-ext', 'EKU=serverAuth', ...store(p.ca)],
    // the chain: the CA first, then the signed certificate replaces the self-signed one under "broker"
    ['-importcert', '-noprompt', '-alias', 'ca', '-file', p.caPem, ...store(p.keyStore)],
    ['-importcert', '-noprompt', '-alias', 'broker', '-file', signed, ...store(p.keyStore)],
  ];
  for (const args of steps) {
    const result = await run(keytool, args);
    if (result.code !== 0) throw new Error(`keytool ${args[0]} failed (exit ${result.code}): ${result.out.trim()}`);
  }
  fs.rmSync(csr, { force: true });
  fs.rmSync(signed, { force: true });
  // written last: its presence says the material is complete
  fs.writeFileSync(p.password, `${storePassword}\n`, { mode: 0o600 });
  return { ...p, storePassword };
}

/**
 * server.properties entries for the secured listeners (added to the PLAINTEXT and CONTROLLER ones).
 * @param {{ security: KafkaSecurity; ports: { saslPlaintext: number; saslSsl: number; ssl: number }; keyStore: string; storePassword: string }} options
 * @returns {{ listeners: string[]; protocolMap: string[]; properties: Record<string, string> }}
 */
export function secureListenerProperties({ security, ports, keyStore, storePassword }) {
  const byName = { SASL_PLAINTEXT: ports.saslPlaintext, SASL_SSL: ports.saslSsl, SSL: ports.ssl };
  const plainUsers = security.users.map((u) => `user_${u.name}="${u.password}"`).join(' ');
  /** @type {Record<string, string>} */
  const properties = {
    'sasl.enabled.mechanisms': MECHANISMS.join(','),
    'ssl.keystore.type': 'PKCS12',
    'ssl.keystore.location': keyStore,
    'ssl.keystore.password': storePassword,
    'ssl.key.password': storePassword,
  };
  if (security.superUsers) {
    properties['authorizer.class.name'] = 'org.apache.kafka.metadata.authorizer.StandardAuthorizer';
    properties['super.users'] = ['ANONYMOUS', ...security.superUsers].map((name) => `User:${name}`).join(';');
  }
  // KRaft reads a listener's server-side JAAS configuration from listener.name.<listener>.<mechanism>.sasl.jaas.config
  for (const listener of ['sasl_plaintext', 'sasl_ssl']) {
    properties[`listener.name.${listener}.plain.sasl.jaas.config`] = `org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers};`;
    for (const scram of ['scram-sha-256', 'scram-sha-512']) {
      properties[`listener.name.${listener}.${scram}.sasl.jaas.config`] = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
    }
  }
  return {
    listeners: LISTENERS.map((name) => `${name}://${HOST}:${byName[name]}`),
    protocolMap: LISTENERS.map((name) => `${name}:${name}`),
    properties,
  };
}

/**
 * StorageTool format arguments that store every user's SCRAM credentials in the new cluster's metadata.
 * @param {KafkaSecurity} security
 */
export function scramArguments(security) {
  return security.users.flatMap((u) => ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((m) => ['--add-scram', `${m}=[name=${u.name},password=${u.password}]`]));
}

/**
 * Adds (or replaces) the users' SCRAM credentials on a running broker through its PLAINTEXT listener: for a storage
 * formatted before these users were asked for.
 * @param {{ classpath: string; log4j: string; bootstrap: string; security: KafkaSecurity }} options
 */
export async function addScramUsers({ classpath, log4j, bootstrap, security }) {
  // one mechanism per call: the broker refuses to alter one user's credentials twice in one request
  for (const u of security.users) {
    for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512']) {
      const result = await run(javaBin(), [log4j, '-cp', classpath, 'kafka.admin.ConfigCommand', '--bootstrap-server', bootstrap,
        '--alter', '--add-config', `${mechanism}=[password=${u.password}]`, '--entity-type', 'users', '--entity-name', u.name]);
      if (result.code !== 0) throw new Error(`adding the ${mechanism} credentials of "${u.name}" failed (exit ${result.code}): ${result.out.trim().slice(-2000)}`);
    }
  }
}
