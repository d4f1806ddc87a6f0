# packaging/windows/install-service.ps1 - installs the Siebel CTI connector as the Windows
# service "SiebelCtiConnector" (run in an elevated PowerShell, from the release bundle's
# windows-x86_64 folder or with -Exe). The service runs
#   siebel-cti-connector.exe --service --config <Config>
# Stop / shutdown stop it cleanly (drivers are told it is out of service). Set [log] file in
# the configuration: a service has no console. See docs/operations.md.
param(
    [string]$Exe = (Join-Path $PSScriptRoot "..\..\windows-x86_64\siebel-cti-connector.exe"),
    [string]$InstallDir = "C:\Program Files\SiebelCti",
    [string]$Config = "C:\ProgramData\SiebelCti\connector.toml",
    [switch]$Start
)
$ErrorActionPreference = "Stop"
$name = "SiebelCtiConnector"
New-Item -ItemType Directory -Force -Path $InstallDir, (Split-Path $Config) | Out-Null
Copy-Item $Exe (Join-Path $InstallDir "siebel-cti-connector.exe") -Force
$bin = Join-Path $InstallDir "siebel-cti-connector.exe"
if (-not (Test-Path $Config)) {
    $example = Join-Path $PSScriptRoot "..\..\config\connector.example.toml"
    Copy-Item $example $Config
    Write-Host "Wrote $Config from the example: edit it (broker, Finesse, [log] file)."
}
if (-not (Get-Service $name -ErrorAction SilentlyContinue)) {
    New-Service -Name $name -DisplayName "Siebel CTI connector" `
        -Description "Serves Siebel CTI drivers through ActiveMQ against Cisco Finesse" `
        -BinaryPathName "`"$bin`" --service --config `"$Config`"" -StartupType Automatic | Out-Null
    # Restart after a failure: 5 s, 5 s, then 60 s.
    sc.exe failure $name reset= 86400 actions= restart/5000/restart/5000/restart/60000 | Out-Null
    Write-Host "Installed the service $name."
}
& $bin --check --config $Config
if ($LASTEXITCODE -ne 0) { Write-Host "--check failed: fix $Config, then Start-Service $name"; exit 1 }
if ($Start) { Restart-Service $name; Write-Host "Started $name." }
