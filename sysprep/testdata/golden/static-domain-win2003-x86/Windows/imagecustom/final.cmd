@echo off
rem final.cmd, written by imagecustom: removes the customization files, which hold passwords.
if exist "%SystemDrive%\Sysprep\sysprep.inf" del /f /q "%SystemDrive%\Sysprep\sysprep.inf"
rd /s /q "%SystemRoot%\imagecustom"
