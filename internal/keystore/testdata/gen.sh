#!/usr/bin/env bash
# Writes the test stores of package keystore with Java's keytool and
# openssl, as ZooKeeper's users make theirs. Every store and key password
# is "zksecret". Run from this directory; the certificates last 100 years.
set -euo pipefail
cd "$(dirname "$0")"
rm -f ./*.jks ./*.p12 ./*.pem ./*.csr
pw=zksecret
kt() { keytool -noprompt -storepass "$pw" -keypass "$pw" "$@" 2>/dev/null; }

# A CA and a server key pair, both EC P-256, in PKCS12 (Java 17's default
# format: PBES2 with AES-256 and an HMAC-SHA-256 MAC).
kt -genkeypair -alias ca -keyalg EC -groupname secp256r1 -dname "CN=keystore test CA,O=zk-test" \
	-ext bc:c -validity 36500 -keystore ca.p12
kt -exportcert -rfc -alias ca -keystore ca.p12 -file ca.pem
kt -genkeypair -alias server -keyalg EC -groupname secp256r1 -dname "CN=zk server,O=zk-test" \
	-validity 36500 -keystore server.p12
kt -certreq -alias server -keystore server.p12 -file server.csr
kt -gencert -alias ca -keystore ca.p12 -infile server.csr -outfile server-signed.pem -rfc \
	-ext san=ip:127.0.0.1,dns:localhost -validity 36500
kt -importcert -alias ca -keystore server.p12 -file ca.pem
kt -importcert -alias server -keystore server.p12 -file server-signed.pem

# The same key store as JKS, and as PKCS12 with the legacy algorithms
# (3DES keys, RC2 certificates, an HMAC-SHA-1 MAC) of Java 8's keytool.
kt -importkeystore -srckeystore server.p12 -srcstorepass "$pw" -destkeystore server.jks -deststoretype JKS \
	-deststorepass "$pw" -destkeypass "$pw" -srcalias server
keytool -J-Dkeystore.pkcs12.legacy -noprompt -importkeystore -srckeystore server.p12 -srcstorepass "$pw" \
	-destkeystore server-legacy.p12 -deststoretype PKCS12 -deststorepass "$pw" -srcalias server 2>/dev/null

# The key entry written after a trusted CA entry, so the CA's certificate
# comes first in the file.
kt -importcert -alias ca -file ca.pem -keystore server-cafirst.p12 -storetype PKCS12
kt -importkeystore -srckeystore server.p12 -srcstorepass "$pw" -destkeystore server-cafirst.p12 \
	-deststorepass "$pw" -srcalias server

# Trust stores holding the CA.
kt -importcert -alias ca -file ca.pem -keystore trust.jks -storetype JKS
kt -importcert -alias ca -file ca.pem -keystore trust.p12 -storetype PKCS12

# PEM: the chain and the key, plain and encrypted in PKCS#8: with
# PBE-SHA1-3DES (what ZooKeeper 3.8 on Java 17 reads) and with PBES2
# (PBKDF2-HMAC-SHA-256 and AES-256-CBC, openssl's default).
openssl pkcs12 -in server.p12 -passin pass:$pw -nodes -nocerts 2>/dev/null |
	openssl pkcs8 -topk8 -nocrypt -out server-key.pem
openssl pkcs8 -topk8 -in server-key.pem -v1 PBE-SHA1-3DES -passout pass:$pw -out server-enckey.pem
openssl pkcs8 -topk8 -in server-key.pem -v2 aes-256-cbc -v2prf hmacWithSHA256 -passout pass:$pw -out server-aeskey.pem
cat server-signed.pem ca.pem server-key.pem >server.pem
cat server-signed.pem ca.pem server-enckey.pem >server-enc.pem
cat server-signed.pem ca.pem server-aeskey.pem >server-aes.pem
rm -f server.csr server-key.pem server-enckey.pem server-aeskey.pem server-signed.pem ca.p12
