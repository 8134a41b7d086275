# Sourced by the bench scripts: checks they run from the repository root with GNU time, builds the command line in
# Release ($CLI), and makes a scratch folder ($tmp) removed on exit.
bench_name="bench/${0##*/}"
CLI=src/Kinship.Cli/bin/Release/net10.0/Kinship.Cli

if [[ ! -f src/Kinship.Cli/Kinship.Cli.csproj ]]; then
    echo "$bench_name: run it from the repository root" >&2
    exit 2
fi
if [[ ! -x /usr/bin/time ]]; then
    echo "$bench_name: needs GNU time at /usr/bin/time (apt-get install time)" >&2
    exit 2
fi

dotnet build -c Release src/Kinship.Cli -nologo -v quiet >/dev/null

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
