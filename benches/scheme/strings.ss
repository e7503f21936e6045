;; String building: concatenation, split into characters and rejoin, substrings, number formatting (peer of programs/strings.menai).
(define rounds 90000)

;; decimal forms of the round's 12 numbers, for j = 0 .. 11
(define (make-pieces i)
  (let loop ((j 11) (acc '()))
    (if (< j 0)
        acc
        (loop (- j 1)
              (cons (number->string (modulo (+ (* i 7919) (* j 104729)) 1000003)) acc)))))

(define (join strs sep)
  (if (null? strs)
      ""
      (apply string-append
             (car strs)
             (let loop ((l (cdr strs)))
               (if (null? l) '() (cons sep (cons (car l) (loop (cdr l)))))))))

(define (concat-all ps u)
  (if (null? ps)
      u
      (concat-all (cdr ps) (string-append u (car ps) ";"))))

(define (code-at s i) (char->integer (string-ref s i)))

(define (loop i acc)
  (if (= i rounds)
      acc
      (let* ((pieces (make-pieces i))
             (s (join pieces ","))
             (u (concat-all pieces ""))
             (r (list->string (reverse (string->list s))))
             (len (string-length s))
             (t (string-append (substring r 0 4)
                               "|"
                               (substring s (- len 4) len)
                               "|"
                               (substring u 4 12))))
        (loop (+ i 1)
              (modulo (+ (* acc 31)
                         (string-length r)
                         (string-length u)
                         (code-at r (modulo i len))
                         (string-length t)
                         (code-at t 5))
                      1000003)))))

(display (loop 0 0))
(newline)
