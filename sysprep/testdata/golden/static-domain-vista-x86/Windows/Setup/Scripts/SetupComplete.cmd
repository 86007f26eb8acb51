@echo off
rem SetupComplete.cmd, written by imagecustom. Windows runs it as SYSTEM after setup, before the logon screen.
cscript.exe //nologo "%SystemRoot%\imagecustom\joindom.vbs"
call "%SystemRoot%\imagecustom\final.cmd"
