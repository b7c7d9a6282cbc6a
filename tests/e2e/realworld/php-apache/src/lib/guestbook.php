<?php
declare(strict_types=1);

function guestbook_add(string $dir, string $text): bool
{
    $line = json_encode(['at' => date(DATE_ATOM), 'text' => $text]) . "\n";
    return @file_put_contents($dir . '/guestbook.jsonl', $line, FILE_APPEND | LOCK_EX) !== false;
}

function guestbook_entries(string $dir): array
{
    $file = $dir . '/guestbook.jsonl';
    if (!is_readable($file)) {
        return [];
    }
    return array_map(fn ($l) => json_decode($l, true), file($file, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES));
}
