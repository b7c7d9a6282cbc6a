require("dotenv").config(); console.log(process.env.DATABASE_URL)
