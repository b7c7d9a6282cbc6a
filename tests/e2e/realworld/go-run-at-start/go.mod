module example.com/devserver

go 1.24
