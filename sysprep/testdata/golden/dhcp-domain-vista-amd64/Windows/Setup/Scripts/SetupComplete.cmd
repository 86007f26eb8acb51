@echo off
rem SetupComplete.cmd, written by imagecustom. Windows runs it as SYSTEM after setup, before the logon screen.
call "%SystemRoot%\imagecustom\final.cmd"
