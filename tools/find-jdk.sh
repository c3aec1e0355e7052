# Sourced by ./myllm and ./test: sets JAVA_HOME to a JDK 25 or newer, or exits with one line.
# Looks at JAVA_HOME, the java on PATH, macOS's java_home, SDKMAN, Homebrew and the usual JVM folders.
myllm_jdk_candidates() {
  local d
  [ -n "${JAVA_HOME:-}" ] && echo "$JAVA_HOME"
  if command -v java >/dev/null 2>&1; then
    # the JDK a symlinked java lives in, without starting it (a JVM start is about 0.1 s)
    local bin
    bin=$(readlink -f "$(command -v java)" 2>/dev/null || true)
    case "$bin" in
      */bin/java) d="${bin%/bin/java}" ;;
      *) d="" ;;
    esac
    if [ -n "$d" ] && [ -f "$d/release" ]; then echo "$d"
    else java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.home = //p'
    fi
  fi
  if [ -x /usr/libexec/java_home ]; then # macOS
    /usr/libexec/java_home -v 25+ 2>/dev/null || /usr/libexec/java_home -v 25 2>/dev/null || true
  fi
  local sdkman="${SDKMAN_DIR:-$HOME/.sdkman}/candidates/java"
  for d in "$sdkman/current" "$sdkman"/* /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* "$HOME"/.jdks/* \
           /Library/Java/JavaVirtualMachines/*/Contents/Home "$HOME"/Library/Java/JavaVirtualMachines/*/Contents/Home \
           /opt/homebrew/opt/openjdk*/libexec/openjdk.jdk/Contents/Home \
           /usr/local/opt/openjdk*/libexec/openjdk.jdk/Contents/Home; do
    [ -d "$d" ] && echo "$d"
  done
  return 0
}
myllm_find_jdk() {
  local d v
  while IFS= read -r d; do
    if [ -x "$d/bin/java" ] && [ -x "$d/bin/javac" ]; then
      # the release file every JDK since 9 has, read instead of starting each candidate's JVM
      v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$d/release" 2>/dev/null || true)
      [ -n "$v" ] || v=$("$d/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
      if [ "${v%%.*}" -ge 25 ] 2>/dev/null; then echo "$d"; return 0; fi
    fi
  done < <(myllm_jdk_candidates)
  return 1
}
if ! MYLLM_JDK=$(myllm_find_jdk); then
  echo "myllm: no JDK 25 or newer found (looked at JAVA_HOME, PATH, /usr/lib/jvm, macOS java_home, SDKMAN, Homebrew);" \
       "install one and set JAVA_HOME to it: Debian/Ubuntu 'sudo apt-get install openjdk-25-jdk' (or Temurin 25 from adoptium.net)," \
       "macOS 'brew install --cask temurin', SDKMAN 'sdk install java 25.0.1-tem'" >&2
  exit 1
fi
export JAVA_HOME="$MYLLM_JDK"
export MAVEN_OPTS="${MAVEN_OPTS:-} --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow"
