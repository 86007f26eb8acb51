package sam
