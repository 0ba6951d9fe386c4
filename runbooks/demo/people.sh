#!/bin/sh
# The demo team of runbooks/phase65.yaml: a fresh Ed25519 key pair for each of its people, made on this machine.
# Private halves go to each person's key directory ($XDG_CONFIG_HOME/deployctl/keys, else ~/.config/deployctl/keys;
# mode 0600), public halves to runbooks/keys/<id>.pub, where phase65.yaml lists them. Nothing here is committed:
# every clone makes its own (runbooks/keys/ is in .gitignore). Existing keys are kept (keygen never overwrites).
#
#   runbooks/demo/people.sh            # all fourteen
#   runbooks/demo/people.sh ana elif   # some of them
#
# On a real team each person runs `deployctl keygen --name ID` on their own machine and sends the .pub to whoever
# keeps the runbook; nobody else ever holds their private key.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
deployctl="node $root/bin/deployctl.js"
keys="$root/runbooks/keys"
personal="${XDG_CONFIG_HOME:-$HOME/.config}/deployctl/keys"
mkdir -p "$keys"
people=${*:-ana ben chen dara elif femi gus hana iris jonas kofi ravi lena sofia}
for id in $people; do
  if [ ! -f "$personal/$id.key" ]; then
    $deployctl keygen --name "$id" >/dev/null
  fi
  # The public half is derived from the private one, so it always matches the key that signs.
  openssl pkey -in "$personal/$id.key" -pubout -out "$keys/$id.pub"
  echo "$id: private key $personal/$id.key, public key runbooks/keys/$id.pub"
done
