module example.com/kv

go 1.24

require github.com/tecbot/gorocksdb v0.0.0-20191217155057-f0fad39f321c
