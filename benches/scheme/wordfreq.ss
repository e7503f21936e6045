;; Word frequencies: generate a pseudo-random text, split it into words, count them in a hashtable (peer of programs/wordfreq.menai).
(define modulus 2147483647)
(define rounds 45)
(define words 125000)
(define syllables '#("ka" "lo" "mi" "ne" "ru" "sa" "to" "vi"
                    "be" "do" "fu" "gi" "ha" "jo" "ku" "le"))

(define (syllable i) (vector-ref syllables i))

;; words of 1 to 3 syllables, each word from one draw of the Park-Miller generator
(define (make-words seed)
  (let loop ((i 1) (x seed) (acc '()))
    (if (> i words)
        (reverse acc)
        (let* ((x (modulo (* x 48271) modulus))
               (r (modulo x 10))
               (q (quotient x 10))
               (w1 (syllable (modulo q 16)))
               (w2 (if (>= r 4)
                       (string-append w1 (syllable (modulo (quotient q 16) 16)))
                       w1))
               (w (if (>= r 8)
                      (string-append w2 (syllable (modulo (quotient q 256) 16)))
                      w2)))
          (loop (+ i 1) x (cons w acc))))))

(define (join strs sep)
  (if (null? strs)
      ""
      (apply string-append
             (car strs)
             (let loop ((l (cdr strs)))
               (if (null? l) '() (cons sep (cons (car l) (loop (cdr l)))))))))

(define (split-spaces s)
  (let ((n (string-length s)))
    (let loop ((i 0) (start 0) (acc '()))
      (cond ((= i n) (reverse (cons (substring s start n) acc)))
            ((char=? (string-ref s i) #\space)
             (loop (+ i 1) (+ i 1) (cons (substring s start i) acc)))
            (else (loop (+ i 1) start acc))))))

(define (count-words text)
  (let ((counts (make-hashtable string-hash string=?)))
    (for-each (lambda (w) (hashtable-update! counts w (lambda (c) (+ c 1)) 0))
              (split-spaces text))
    counts))

(define (loop round acc)
  (if (> round rounds)
      acc
      (let* ((counts (count-words (join (make-words round) " ")))
             (distinct (hashtable-size counts))
             (top (fold-left max 0 (vector->list (hashtable-values counts)))))
        (loop (+ round 1) (modulo (+ (* acc 31) (* distinct 1000) top) 1000003)))))

(display (loop 1 0))
(newline)
