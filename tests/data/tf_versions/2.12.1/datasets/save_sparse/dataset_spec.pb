¢`
0’-¢
ú
€SparseTensorSpec 
,’)¢
ú
€SparseTensorSpec 