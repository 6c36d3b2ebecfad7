; Inno Setup 6 script: the Windows installer of recotap-desktop.
;
; Input:  dist\recotap-desktop\  (pyinstaller --distpath dist packaging\recotap-desktop.spec)
; Output: dist\recotap-desktop-<version>-windows-x64-setup.exe
;
;   iscc /DAppVersion=<recotap_desktop.__version__> packaging\windows\recotap-desktop.iss
;
; Signed build (see packaging\README.md): sign dist\recotap-desktop\*.exe with signtool
; first, then add  /DSign "/Ssigntool=signtool.exe sign /fd SHA256 /tr <timestamp URL> /td SHA256 /f $qcert.pfx$q /p $qpassword$q $f"
; so that Inno Setup signs the installer and the uninstaller with the same certificate.
;
; Installs per user by default (no administrator rights needed: %LOCALAPPDATA%\Programs);
; the first page offers "install for all users" to administrators.

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=<recotap_desktop.__version__> recotap-desktop.iss
#endif

#define AppName "Recotap Desktop"
#define AppExe "recotap-desktop.exe"
#define CliExe "recotap.exe"
#define Root SourcePath + "..\.."

[Setup]
; AppId identifies the app for upgrades and uninstall: never change it.
AppId={{D7AFD933-2957-4B68-82B7-2A6210E9196D}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=recotap-desktop developers
AppPublisherURL=https://recotap.com
AppSupportURL=https://recotap.com
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog commandline
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir={#Root}\dist
OutputBaseFilename=recotap-desktop-{#AppVersion}-windows-x64-setup
SetupIconFile={#Root}\resources\icons\app.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ChangesEnvironment=yes
ChangesAssociations=yes
CloseApplications=yes
#ifdef Sign
SignTool=signtool
SignedUninstaller=yes
#endif

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "addtopath"; Description: "Add the recotap command line to PATH"; GroupDescription: "Command line:"; Flags: unchecked

[Files]
; The PyInstaller folder as it is: both executables and _internal\.
Source: "{#Root}\dist\recotap-desktop\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; An upgrade replaces the bundled libraries completely (no stale files from older versions).
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
Root: HKCU; Subkey: "Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; Tasks: addtopath; Check: not IsAdminInstallMode and NeedsAddPath('{app}')
Root: HKLM; Subkey: "SYSTEM\CurrentControlSet\Control\Session Manager\Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; Tasks: addtopath; Check: IsAdminInstallMode and NeedsAddPath('{app}')

; "Open with Recotap Desktop" for CSV, TSV and XLSX (issue 18: 9): the app is offered in
; the Open with list, never made the default program of spreadsheets (OpenWithProgids).
Root: HKA; Subkey: "Software\Classes\RecotapDesktop.File"; ValueType: string; ValueName: ""; ValueData: "File for {#AppName}"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\RecotapDesktop.File"; ValueType: string; ValueName: "FriendlyAppName"; ValueData: "{#AppName}"
Root: HKA; Subkey: "Software\Classes\RecotapDesktop.File\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExe},0"
Root: HKA; Subkey: "Software\Classes\RecotapDesktop.File\shell\open"; ValueType: string; ValueName: "FriendlyAppName"; ValueData: "{#AppName}"
Root: HKA; Subkey: "Software\Classes\RecotapDesktop.File\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""
Root: HKA; Subkey: "Software\Classes\.csv\OpenWithProgids"; ValueType: string; ValueName: "RecotapDesktop.File"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.tsv\OpenWithProgids"; ValueType: string; ValueName: "RecotapDesktop.File"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.xlsx\OpenWithProgids"; ValueType: string; ValueName: "RecotapDesktop.File"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".csv"; ValueData: ""; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".tsv"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".xlsx"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[Code]
{ PATH handling for the optional "addtopath" task: add {app} once, remove it on uninstall. }
procedure PathKey(var RootKey: Integer; var SubKey: String);
begin
  if IsAdminInstallMode then begin
    RootKey := HKEY_LOCAL_MACHINE;
    SubKey := 'SYSTEM\CurrentControlSet\Control\Session Manager\Environment';
  end else begin
    RootKey := HKEY_CURRENT_USER;
    SubKey := 'Environment';
  end;
end;

function NeedsAddPath(Dir: String): Boolean;
var
  RootKey: Integer;
  SubKey, Path: String;
begin
  Dir := ExpandConstant(Dir);
  PathKey(RootKey, SubKey);
  if not RegQueryStringValue(RootKey, SubKey, 'Path', Path) then begin
    Result := True;
    exit;
  end;
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Path) + ';') = 0;
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
var
  RootKey, P: Integer;
  SubKey, Path, Dir: String;
begin
  if CurUninstallStep <> usPostUninstall then
    exit;
  PathKey(RootKey, SubKey);
  if not RegQueryStringValue(RootKey, SubKey, 'Path', Path) then
    exit;
  Dir := ExpandConstant('{app}');
  P := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Path) + ';');
  if P = 0 then
    exit;
  { P is 1-based in ';' + Path + ';': the entry starts at P in Path, after a ';' at P - 1. }
  if P > 1 then
    Delete(Path, P - 1, Length(Dir) + 1)
  else
    Delete(Path, 1, Length(Dir) + 1);
  RegWriteExpandStringValue(RootKey, SubKey, 'Path', Path);
end;
