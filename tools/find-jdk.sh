# Sourced by ./myllm and ./test: sets JAVA_HOME to a JDK 25 or newer, or exits with one line.
myllm_find_jdk() {
  local candidates=() d v
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  for d in /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/* \
           "$HOME"/.jdks/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -d "$d" ] && candidates+=("$d")
  done
  for d in "${candidates[@]}"; do
    if [ -x "$d/bin/java" ] && [ -x "$d/bin/javac" ]; then
      v=$("$d/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
      if [ "${v%%.*}" -ge 25 ] 2>/dev/null; then echo "$d"; return 0; fi
    fi
  done
  return 1
}
if ! MYLLM_JDK=$(myllm_find_jdk); then
  echo "myllm: no JDK 25 found (looked at JAVA_HOME and /usr/lib/jvm); install one (e.g. Temurin 25) and set JAVA_HOME to it" >&2
  exit 1
fi
export JAVA_HOME="$MYLLM_JDK"
export MAVEN_OPTS="${MAVEN_OPTS:-} --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow"
