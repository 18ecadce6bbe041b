from workbook.launch import main

main()
